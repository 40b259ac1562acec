package dev.errand.cli;

import static dev.errand.workflow.Workflows.chord;
import static dev.errand.workflow.Workflows.group;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.QueueStats;
import dev.errand.workflow.Chain;
import dev.errand.workflow.Signature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Workflows over real {@code errand worker} processes ({@link WorkflowItApp}) sharing one backend:
 * chains of 3 and a 1,000-member chord complete while a worker is SIGKILLed every 2 to 3 seconds
 * (and replaced); a 10,000-member chord finished by 3 workers at once fires its callback exactly
 * once with every result in order; a worker frozen past its lease undoes nothing when it wakes.
 * Subclassed once per backend.
 *
 * <p>Steps and members may run more than once (at-least-once: a killed worker's tasks run again
 * when its lease expires); a chain's result and a chord's callback must not. Every run is appended
 * to a log file by the worker processes, so a second run of a callback, in any process, is seen.
 * Under kills the callback runs on a worker of its own that is never killed: its own run being cut
 * off would be an honest re-run, not the chord firing twice, which is what is tested (the count is
 * kept by the members' settlements, on the workers that are killed).
 */
abstract class WorkflowProcessIT extends ProcessTestBase {

  /** The lease of the workers that are killed: their tasks run again within seconds. */
  static final String LEASE = "2s";

  /**
   * Deliveries before a message is dead-lettered: far above the default, since every kill counts a
   * delivery for the messages the killed worker held, and a dead letter would fail the workflow.
   */
  static final String MAX_DELIVERIES = "50";

  /** Kills come every 2 to 3 seconds. */
  static final long KILL_EVERY_MS = 2_000;

  static final long KILL_JITTER_MS = 1_000;

  /**
   * At least this many kills while the work runs, or the test proves nothing; the work is sized for
   * it (see {@link #stepMs}).
   */
  static final int MIN_KILLS = 3;

  static final Duration WORK_TIMEOUT = Duration.ofSeconds(100);

  final Map<Process, String> names = new HashMap<>();
  int workersStarted;

  /** Starts {@code errand worker} as one process (no supervisor): the one that runs the tasks. */
  Process worker(String... extra) throws IOException {
    String name = "worker-" + ++workersStarted;
    List<String> args =
        new ArrayList<>(
            List.of(
                "worker",
                "--app",
                WorkflowItApp.class.getName(),
                "--broker",
                url,
                "--name",
                name,
                "--no-supervisor"));
    args.addAll(List.of(extra));
    Process p = ErrandProcess.start(dir, name, args);
    processes.add(p);
    names.put(p, name);
    return p;
  }

  /** A worker of the pool that is killed: short lease, tolerant of many deliveries. */
  Process killable() throws IOException {
    return worker("-c", "2", "--lease", LEASE, "--max-deliveries", MAX_DELIVERIES);
  }

  @Test
  void everyChainCompletesWithTheRightValueWhileWorkersAreKilled() throws Exception {
    int chains = 200;
    List<Process> pool = killables(3); // starting while the chains are sent
    List<AsyncResult<WorkflowItApp.Step>> ends = new ArrayList<>();
    for (int c = 0; c < chains; c++) {
      WorkflowItApp.Step first =
          new WorkflowItApp.Step(c, 0, WorkflowItApp.value(c, 0), stepMs(c), log.toString());
      ends.add(
          client.send(
              Chain.of(Signature.of(WorkflowItApp.STEP, first))
                  .then(WorkflowItApp.STEP)
                  .then(WorkflowItApp.STEP)));
    }

    int kills = killWorkersUntil(pool, allSucceeded(ends));

    for (int c = 0; c < chains; c++) {
      assertThat(ends.get(c).get(Duration.ofSeconds(5)))
          .as("chain %d", c)
          .isEqualTo(
              new WorkflowItApp.Step(c, 3, WorkflowItApp.value(c, 3), stepMs(c), log.toString()));
    }
    Map<String, Integer> runs = runs("step");
    for (int c = 0; c < chains; c++) {
      for (int k = 0; k < 3; k++) {
        assertThat(runs).as("runs of chain %d step %d", c, k).containsKey(c + " " + k);
      }
    }
    assertThat(runs).hasSize(3 * chains);
    report("chains", kills, runs);
  }

  @Test
  void chordCallbackRunsOnceWithEveryResultWhileWorkersAreKilled() throws Exception {
    int size = 1_000;
    worker("-Q", WorkflowItApp.CALLBACKS, "-c", "1"); // never killed: see the class comment
    List<Process> pool = killables(3);
    List<Signature<Long>> members = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      members.add(
          Signature.of(WorkflowItApp.MEMBER, new WorkflowItApp.Member(i, memberMs(i), log())));
    }
    AsyncResult<Long> callback = client.send(chord(group(members), gather(size)));

    int kills = killWorkersUntil(pool, allSucceeded(List.of(callback)));

    assertOneCallbackRunWithEveryResult(callback, size);
    Map<String, Integer> runs = runs("member");
    assertThat(runs).hasSize(size);
    report("chord members", kills, runs);
  }

  @Test
  void chordOfTenThousandFinishedByThreeWorkersFiresItsCallbackOnce() throws Exception {
    int size = 10_000;
    for (int w = 0; w < 3; w++) {
      worker("-Q", "default," + WorkflowItApp.CALLBACKS, "-c", "4");
    }
    List<Signature<Long>> members = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      members.add(Signature.of(WorkflowItApp.MEMBER, new WorkflowItApp.Member(i, 0, log())));
    }
    AsyncResult<Long> callback = client.send(chord(group(members), gather(size)));

    assertOneCallbackRunWithEveryResult(callback, size);
    Map<String, Integer> runs = runs("member");
    assertThat(runs).hasSize(size);
    Set<String> pids = new HashSet<>();
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith("member ")) {
        pids.add(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    assertThat(pids).as("processes that ran members").hasSize(3);
  }

  /**
   * A worker frozen (SIGSTOP) while it runs a chord member, past its lease, wakes (SIGCONT) after
   * another worker has run the member again and finished it: the frozen attempt's late writes (its
   * progress, its outcome) must change nothing, so the member stays SUCCESS with its result and the
   * callback gets it. The other member waits on a file, so the chord completes only after the
   * frozen worker has written all it will.
   */
  @Test
  void aWorkerWakingPastItsLeaseDoesNotUndoTheMemberAnotherWorkerFinished() throws Exception {
    Path gate = dir.resolve("gate");
    AsyncResult<Long> callback =
        client.send(
            chord(
                group(
                    Signature.of(WorkflowItApp.SLOW, new WorkflowItApp.Slow(0, 3_000, log())),
                    Signature.of(WorkflowItApp.GATE, new WorkflowItApp.Gate(1, gate.toString()))),
                gather(2)));
    Process frozen = worker("-Q", "default", "-c", "1", "--prefetch", "0", "--lease", LEASE);
    String member = awaitSlowRunBy(frozen);
    signal(frozen, "STOP"); // mid-task: it renews nothing, writes nothing, until CONT
    assertThat(client.result(member).state())
        .as("the member, frozen in its 3 s of work")
        .isNotEqualTo(TaskState.SUCCESS);

    Process other = worker("-Q", "default," + WorkflowItApp.CALLBACKS, "-c", "2");
    assertThat(awaitSlowRunBy(other)).isEqualTo(member); // once the lease has expired
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.result(member).state() == TaskState.SUCCESS);

    signal(frozen, "CONT");
    Path frozenOut = dir.resolve(names.get(frozen) + ".out");
    await() // its progress is written before its outcome, which finds the lease gone
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> Files.readString(frozenOut).contains("lease of task [" + member + "] was lost"));
    SoftAssertions softly = new SoftAssertions();
    softly
        .assertThat(client.result(member).state())
        .as("the member's status, once the frozen attempt has written all it will")
        .isEqualTo(TaskState.SUCCESS);
    Files.writeString(gate, "open");
    softly
        .assertThatCode(
            () ->
                assertThat(callback.get(Duration.ofSeconds(30)))
                    .isEqualTo(
                        WorkflowItApp.checksum(
                            List.of(WorkflowItApp.memberValue(0), WorkflowItApp.memberValue(1)))))
        .as("the chord's callback, given both results")
        .doesNotThrowAnyException();
    softly.assertAll();
  }

  /** Waits for a run of {@link WorkflowItApp#SLOW} by {@code worker}; returns the task's id. */
  String awaitSlowRunBy(Process worker) {
    String suffix = " " + worker.pid();
    return await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              if (!Files.exists(log)) {
                return null;
              }
              for (String line : Files.readAllLines(log)) {
                if (line.startsWith("slow ") && line.endsWith(suffix)) {
                  return line.split(" ")[2];
                }
              }
              return null;
            },
            id -> id != null);
  }

  static void signal(Process p, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -%s %d", signal, p.pid()).isZero();
  }

  Signature<Long> gather(int size) {
    return Signature.of(WorkflowItApp.GATHER, new WorkflowItApp.Gather(size, log(), List.of()))
        .resultAs("results");
  }

  /**
   * Waits for the callback's result, then until no message is left anywhere (a second callback
   * message, or a member's held by a killed worker, would still be run), then checks the log: one
   * run of the callback, given {@code size} results, each the right one in member order.
   */
  void assertOneCallbackRunWithEveryResult(AsyncResult<Long> callback, int size) throws Exception {
    List<Long> expected = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      expected.add(WorkflowItApp.memberValue(i));
    }
    assertThat(callback.get(WORK_TIMEOUT)).isEqualTo(WorkflowItApp.checksum(expected));
    assertThat(callback.state()).isEqualTo(TaskState.SUCCESS);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              for (String queue : List.of("default", WorkflowItApp.CALLBACKS)) {
                QueueStats s = backend.broker().stats(queue);
                assertThat(s.ready() + s.leased() + s.delayed())
                    .as("messages in " + queue)
                    .isZero();
              }
            });
    List<String> gathers = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith("gather ")) {
        gathers.add(line);
      }
    }
    assertThat(gathers).as("runs of the callback").hasSize(1);
    assertThat(gathers.get(0))
        .startsWith("gather " + callback.id() + " ")
        .endsWith(" size=" + size + " mismatch=-1");
  }

  /** Starts {@code n} workers of the pool that is killed. */
  List<Process> killables(int n) throws IOException {
    List<Process> pool = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pool.add(killable());
    }
    return pool;
  }

  /**
   * Every 2 to 3 seconds until {@code done}, SIGKILLs one worker of {@code pool}, chosen at random
   * among those that have run a task, and starts another in its place.
   *
   * @return how many were killed
   */
  int killWorkersUntil(List<Process> pool, BooleanSupplier done) throws Exception {
    long deadline = System.nanoTime() + WORK_TIMEOUT.toNanos();
    long firstRun = 0; // the kills start when the work does, not while the JVMs start
    long nextKill = 0;
    int kills = 0;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not finished after " + WORK_TIMEOUT + " and " + kills + " kills");
      }
      if (firstRun == 0) {
        if (Files.exists(log) && Files.size(log) > 0) {
          firstRun = System.nanoTime();
          nextKill = firstRun + killDelayNanos();
        }
      } else if (System.nanoTime() >= nextKill) {
        Set<String> ran = pidsInLog();
        List<Process> busy = new ArrayList<>();
        for (Process p : pool) {
          if (ran.contains(Long.toString(p.pid()))) {
            busy.add(p);
          }
        }
        if (!busy.isEmpty()) {
          Process victim = busy.get(ThreadLocalRandom.current().nextInt(busy.size()));
          victim.destroyForcibly(); // SIGKILL: no ack, no release, no settlement
          assertThat(victim.waitFor(10, TimeUnit.SECONDS)).isTrue();
          pool.remove(victim);
          pool.add(killable());
          kills++;
        }
        nextKill = System.nanoTime() + killDelayNanos();
      }
      Thread.sleep(200);
    }
    System.out.printf(
        "%s: %d workers killed in %.1f s of work%n",
        getClass().getSimpleName(), kills, (System.nanoTime() - firstRun) / 1e9);
    assertThat(kills).as("workers killed while the work ran").isGreaterThanOrEqualTo(MIN_KILLS);
    return kills;
  }

  static long killDelayNanos() {
    return TimeUnit.MILLISECONDS.toNanos(
        KILL_EVERY_MS + ThreadLocalRandom.current().nextLong(KILL_JITTER_MS));
  }

  /**
   * True once every result is a success (read in one batch); fails at once if one failed, with its
   * error (a step given a wrong value, a dead letter).
   */
  BooleanSupplier allSucceeded(List<? extends AsyncResult<?>> results) {
    Map<String, AsyncResult<?>> waiting = new LinkedHashMap<>();
    for (AsyncResult<?> r : results) {
      waiting.put(r.id(), r);
    }
    return () -> {
      for (TaskStatus s : backend.results().getAll(waiting.keySet()).values()) {
        if (s.state() == TaskState.FAILURE || s.state() == TaskState.REVOKED) {
          try {
            waiting.get(s.id()).get(Duration.ofSeconds(1));
          } catch (Exception e) {
            throw new AssertionError("task " + s.id() + " ended " + s.state(), e);
          }
        }
        if (s.state() == TaskState.SUCCESS) {
          waiting.remove(s.id());
        }
      }
      return waiting.isEmpty();
    };
  }

  /** The processes that have run a task. */
  Set<String> pidsInLog() throws IOException {
    Set<String> pids = new HashSet<>();
    if (Files.exists(log)) {
      for (String line : Files.readAllLines(log)) {
        pids.add(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return pids;
  }

  /** How many times each task of {@code kind} started, by its key ("chain step", "index"). */
  Map<String, Integer> runs(String kind) throws IOException {
    Map<String, Integer> runs = new HashMap<>();
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith(kind + " ")) {
        String key = line.substring(kind.length() + 1, line.lastIndexOf(' '));
        runs.merge(key, 1, Integer::sum);
      }
    }
    return runs;
  }

  /**
   * Prints how much the kills cost, and checks they cut some tasks off (else nothing was shown).
   */
  void report(String what, int kills, Map<String, Integer> runs) {
    int total = runs.values().stream().mapToInt(Integer::intValue).sum();
    long again = runs.values().stream().filter(n -> n > 1).count();
    System.out.printf(
        "%s %s: %d kills, %d runs of %d tasks, %d tasks run more than once%n",
        getClass().getSimpleName(), what, kills, total, runs.size(), again);
    assertThat(again).as("tasks cut off by a kill and run again").isPositive();
  }

  String log() {
    return log.toString();
  }

  /**
   * 80 to 120 ms a step, 100 on average: 600 steps on 6 threads take at least 10 s, on any machine
   * (they sleep), more with kills; 3 kills take at most 3 × 3 s and the loop's overhead.
   */
  static int stepMs(int chain) {
    return 80 + (chain * 13) % 41;
  }

  /** 40 to 80 ms a member, 60 on average: 1,000 members on 6 threads take 10 s, as steps do. */
  static int memberMs(int index) {
    return 40 + (index * 17) % 41;
  }
}
