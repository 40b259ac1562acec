package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What every supervisor of {@code errand worker} does, the JVM one ({@link WorkerSupervisorIT}) and
 * the launcher's shell ({@link LauncherSupervisorIT}): it runs the worker in a child process that
 * it recycles when a thread is stuck past its hard time limit (and the retry then runs only once
 * the stuck process is gone), after {@code --max-tasks-per-child} tasks, above {@code
 * --max-memory-per-child}; it replaces a child that dies; stopping or killing the supervisor stops
 * the child with it; a child that cannot start ends the supervisor with its exit code.
 */
abstract class SupervisorContract extends ProcessTestBase {

  static final Duration WAIT = Duration.ofSeconds(90);

  @Override
  String newBackendUrl(Path dir) {
    return "sqlite:" + dir.resolve("sup.db");
  }

  /** Starts {@code errand ARGS} under the supervisor tested, its output in {@code OUT.out}. */
  abstract Process start(String out, List<String> args) throws IOException;

  private Process supervisor(String name, String... extra) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "worker", "--app", SupervisorApp.class.getName(), "--broker", url, "--name", name));
    args.addAll(List.of(extra));
    Process p = start(name, args);
    processes.add(p);
    return p;
  }

  SupervisorApp.Run run(String label) {
    return new SupervisorApp.Run(label, log.toString());
  }

  private List<String> lines(String prefix) throws IOException {
    return Files.readAllLines(log).stream().filter(l -> l.startsWith(prefix)).toList();
  }

  /** The worker process of {@code supervisor} (not a JDK spawn helper, a sleep, a short JVM). */
  static long childOf(Process supervisor) {
    await().atMost(WAIT).until(() -> workerProcess(supervisor).isPresent());
    return workerProcess(supervisor).orElseThrow().pid();
  }

  private static java.util.Optional<ProcessHandle> workerProcess(Process supervisor) {
    boolean proc = Files.isDirectory(Path.of("/proc/self"));
    return supervisor
        .descendants()
        .filter(ProcessHandle::isAlive)
        .filter(h -> !proc || isWorkerProcess(h.pid()))
        .findFirst();
  }

  /** Read from /proc: ProcessHandle.Info gives no arguments for a long command line. */
  private static boolean isWorkerProcess(long pid) {
    try {
      return Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline"))
          .contains("--supervised-by");
    } catch (IOException e) {
      return false; // it just ended
    }
  }

  @Test
  void aStuckAttemptRecyclesTheProcessAndItsRetryRunsOnlyOnceThatProcessIsGone() throws Exception {
    Process sup = supervisor("sup-stuck", "-c", "2");
    long firstChild = childOf(sup);

    AsyncResult<String> r = client.enqueue(SupervisorApp.STUCK, run("stuck"));

    String result = r.get(WAIT);
    List<String> starts = lines("start " + r.id());
    assertThat(starts).hasSize(2);
    assertThat(starts.get(0)).isEqualTo("start " + r.id() + " 1 " + firstChild);
    assertThat(starts.get(1)).endsWith(" previous-alive=false");
    long secondChild = Long.parseLong(starts.get(1).split(" ")[3]);
    assertThat(secondChild).isNotEqualTo(firstChild);
    assertThat(result).isEqualTo("attempt 2 in " + secondChild);
    assertThat(ProcessHandle.of(firstChild).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(Files.readString(dir.resolve("sup-stuck.out")))
        .contains("recycling this worker process: 1 threads stuck past their hard time limit")
        // by the supervisor, not by the lease running out
        .contains("sent 1 of 1 retries held for threads stuck in the exited worker process");
    assertThat(sup.isAlive()).isTrue();
  }

  @Test
  void maxTasksPerChildRecyclesTheProcessAndRunsEveryTaskOnce() throws Exception {
    Process sup =
        supervisor("sup-tasks", "-c", "1", "--prefetch", "0", "--max-tasks-per-child", "3");
    childOf(sup);
    List<AsyncResult<String>> sent = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      sent.add(client.enqueue(SupervisorApp.QUICK, run("q" + i)));
      await().atMost(WAIT).until(() -> sent.get(sent.size() - 1).state() == TaskState.SUCCESS);
    }
    java.util.Map<String, Long> tasksPerProcess = new java.util.HashMap<>();
    for (AsyncResult<String> r : sent) {
      tasksPerProcess.merge(r.get(WAIT), 1L, Long::sum);
    }
    assertThat(tasksPerProcess.values()).containsExactlyInAnyOrder(3L, 3L, 1L);
    assertThat(lines("done ")).hasSize(7);
    assertThat(sup.isAlive()).isTrue();
  }

  @Test
  void maxMemoryPerChildRecyclesTheProcess() throws Exception {
    Process sup =
        supervisor("sup-memory", "-c", "1", "--prefetch", "0", "--max-memory-per-child", "300m");
    long first = childOf(sup);
    List<AsyncResult<String>> sent = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      sent.add(client.enqueue(SupervisorApp.LEAK, run("m" + i)));
      await().atMost(WAIT).until(() -> sent.get(sent.size() - 1).state() == TaskState.SUCCESS);
    }
    // Between the old child's exit and the new one's start there is no child: childOf throws.
    await().atMost(WAIT).ignoreExceptions().until(() -> childOf(sup) != first);
    assertThat(Files.readString(dir.resolve("sup-memory.out")))
        .contains("over --max-memory-per-child 300 MiB");
    assertThat(lines("done ")).hasSize(8);
  }

  @Test
  void sigtermStopsTheWorkerProcessGracefullyAndTheSupervisorExits() throws Exception {
    Process sup = supervisor("sup-term", "-c", "1");
    long child = childOf(sup);
    AsyncResult<String> r = client.enqueue(SupervisorApp.QUICK, run("before"));
    r.get(WAIT);

    sup.destroy(); // SIGTERM

    assertThat(sup.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    String out = Files.readString(dir.resolve("sup-term.out"));
    assertThat(out).contains("worker sup-term stopped").doesNotContain("supervisor");
  }

  @Test
  void aWorkerProcessKilledBySignalIsReplacedAndItsTaskRunsAgain() throws Exception {
    Process sup = supervisor("sup-oom", "-c", "1", "--lease", "3s");
    long first = childOf(sup);
    AsyncResult<String> r = client.enqueue(SupervisorApp.QUICK, run("warm-up"));
    assertThat(r.get(WAIT)).isEqualTo(String.valueOf(first));

    ProcessHandle.of(first).orElseThrow().destroyForcibly(); // as the OOM killer would

    // Between the old child's exit and the new one's start there is no child: childOf throws.
    await().atMost(WAIT).ignoreExceptions().until(() -> childOf(sup) != first);
    long second = childOf(sup);
    assertThat(client.enqueue(SupervisorApp.QUICK, run("after")).get(WAIT))
        .isEqualTo(String.valueOf(second));
    assertThat(Files.readString(dir.resolve("sup-oom.out"))).contains("died (exit 137)");
  }

  @Test
  void killingTheSupervisorStopsItsWorkerProcess() throws Exception {
    Process sup = supervisor("sup-kill");
    long child = childOf(sup);

    sup.destroyForcibly(); // SIGKILL: no hook runs in the supervisor

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void aWorkerThatCannotStartEndsTheSupervisorWithItsExitCode() throws Exception {
    Process sup =
        start(
            "sup-bad", List.of("worker", "--app", "no.such.App", "--broker", url, "-n", "sup-bad"));
    processes.add(sup);

    assertThat(sup.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(sup.exitValue()).isEqualTo(2);
    assertThat(Files.readString(dir.resolve("sup-bad.out"))).contains("no.such.App");
  }
}
