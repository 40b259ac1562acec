package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Flow control proved with real workers on a real backend, all at once in one run: a rate limit of
 * 100/s yields 100/s ±5% measured over 20 s; a per-key concurrency limit of 2 is never exceeded
 * (every run's start and end, checked for overlap) while other keys run more than two at once; a
 * paused queue is untouched while the others are drained, and runs once resumed; three queues with
 * backlogs are each served within 10% of a third (counted over the first half of their tasks, while
 * each still has a backlog).
 *
 * <p>Workers consume {@link #QUEUES} with {@link #TIMED} handled by {@link #run}, at least 16 task
 * threads in all (say 3 workers of 8): {@link #enqueue} first, then start them, then {@link
 * #verify}. Times are the task's own wall clock, so workers must share one machine's clock. Not
 * thread-safe.
 */
public final class FlowControlProof {

  /** A task that sleeps {@code ms} and returns when it ran: {@code startMicros,endMicros}. */
  public record Timed(int ms) {}

  /** The task of the proof. */
  public static final TaskDef<Timed, String> TIMED =
      TaskDef.builder("proof.timed", Timed.class, String.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).build())
          .build();

  /** The rate-limited queue. */
  public static final String RATED = "proof-rated";

  /** The queue of the concurrency-limited keys. */
  public static final String KEYS = "proof-keys";

  /** The queues served round-robin. */
  public static final List<String> ROUND_ROBIN = List.of("proof-rr-a", "proof-rr-b", "proof-rr-c");

  /** The queue paused during the run. */
  public static final String PAUSED = "proof-paused";

  /** Every queue the workers must consume. */
  public static final List<String> QUEUES =
      List.of(RATED, KEYS, ROUND_ROBIN.get(0), ROUND_ROBIN.get(1), ROUND_ROBIN.get(2), PAUSED);

  /** The rate: {@value} starts a second. */
  public static final int RATE = 100;

  /** The measured window, after the first start plus {@link #WARM_UP}: 20 s. */
  public static final Duration WINDOW = Duration.ofSeconds(20);

  /**
   * Left out of the measurement at the start: 8 s, while the workers' JVMs compile their hot code
   * and drain the other queues of the proof (on 2 cores, claims then come up to 200 ms late, and a
   * limit never makes up for time its workers could not claim in).
   */
  public static final Duration WARM_UP = Duration.ofSeconds(8);

  private static final int RATED_TASKS = RATE * 30; // outlasts warm-up and window by 2 s
  private static final int KEY_TASKS = 60;
  private static final int RR_TASKS = 3000;
  private static final int PAUSED_TASKS = 100;

  private final Client client;
  private final List<AsyncResult<String>> rated = new ArrayList<>();
  private final List<AsyncResult<String>> hot = new ArrayList<>();
  private final List<AsyncResult<String>> cold = new ArrayList<>();
  private final Map<String, List<AsyncResult<String>>> rr = new TreeMap<>();
  private final List<AsyncResult<String>> paused = new ArrayList<>();

  /** What a run measured, for the log. */
  public record Report(
      int ratedInWindow,
      double ratePerSecond,
      int hotMostAtOnce,
      int coldMostAtOnce,
      Map<String, Integer> roundRobinFirsts) {}

  public FlowControlProof(Client client) {
    this.client = client;
  }

  /** The handler of {@link #TIMED}: sleeps, and says when it ran. */
  public static String run(Timed t) throws InterruptedException {
    long start = micros();
    if (t.ms() > 0) {
      Thread.sleep(t.ms());
    }
    return start + "," + micros();
  }

  private static long micros() {
    Instant now = Instant.now();
    return TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1000;
  }

  /** Pauses {@link #PAUSED} and enqueues every task of the proof; start the workers after. */
  public void enqueue() {
    client.backend().broker().pause(PAUSED);
    paused.addAll(batch(PAUSED, PAUSED_TASKS, 0, TaskOptions.builder()));
    for (String q : ROUND_ROBIN) {
      rr.put(q, batch(q, RR_TASKS, 1, TaskOptions.builder()));
    }
    for (int i = 0; i < KEY_TASKS; i++) {
      hot.addAll(batch(KEYS, 1, 25, TaskOptions.builder().limitKey("hot").concurrencyLimit(2)));
      cold.addAll(
          batch(KEYS, 1, 25, TaskOptions.builder().limitKey("cold-" + i).concurrencyLimit(2)));
    }
    rated.addAll(batch(RATED, RATED_TASKS, 0, TaskOptions.builder().rateLimit(RATE + "/s")));
  }

  private List<AsyncResult<String>> batch(
      String queue, int n, int ms, TaskOptions.Builder options) {
    return client.enqueueAll(
        TIMED, Collections.nCopies(n, new Timed(ms)), options.queue(queue).build());
  }

  /**
   * Waits for every task but the paused ones, checks the four claims, then resumes the paused queue
   * and waits for it.
   */
  public Report verify(Duration timeout) {
    List<long[]> ratedRuns = runs(rated, timeout);
    List<long[]> hotRuns = runs(hot, timeout);
    List<long[]> coldRuns = runs(cold, timeout);
    Map<String, List<long[]>> rrRuns = new TreeMap<>();
    rr.forEach((q, results) -> rrRuns.put(q, runs(results, timeout)));

    // the paused queue: untouched while the rest was drained
    assertThat(client.backend().broker().stats(PAUSED).ready())
        .as("messages waiting in the paused queue")
        .isEqualTo(PAUSED_TASKS);
    assertThat(paused).allSatisfy(r -> assertThat(r.state().isReady()).isFalse());

    // the rate: starts in the window
    long first = ratedRuns.stream().mapToLong(r -> r[0]).min().orElseThrow();
    long from = first + WARM_UP.toNanos() / 1000;
    long to = from + WINDOW.toNanos() / 1000;
    int inWindow = (int) ratedRuns.stream().filter(r -> r[0] >= from && r[0] < to).count();
    double perSecond = inWindow / (double) WINDOW.toSeconds();
    assertThat(perSecond).as("rate-limited starts per second").isBetween(RATE * 0.95, RATE * 1.05);

    // the concurrency: never more than 2 of the hot key; the others freely
    int hotMost = mostAtOnce(hotRuns);
    assertThat(hotMost).as("hot key's runs at once").isLessThanOrEqualTo(2).isPositive();
    int coldMost = mostAtOnce(coldRuns);
    assertThat(coldMost).as("runs of the other keys at once").isGreaterThan(2);

    // round-robin: the first half of all their starts, while each queue still had a backlog (a
    // claim takes up to a worker's free slots from one queue, so shares are counted over many)
    List<long[]> all = new ArrayList<>();
    List<String> queueOf = new ArrayList<>();
    rrRuns.forEach(
        (q, runs) -> {
          for (long[] r : runs) {
            all.add(new long[] {r[0], queueOf.size()});
            queueOf.add(q);
          }
        });
    all.sort((a, b) -> Long.compare(a[0], b[0]));
    int firsts = RR_TASKS * ROUND_ROBIN.size() / 2;
    Map<String, Integer> served = new TreeMap<>();
    for (long[] r : all.subList(0, firsts)) {
      served.merge(queueOf.get((int) r[1]), 1, Integer::sum);
    }
    int share = firsts / ROUND_ROBIN.size();
    for (String q : ROUND_ROBIN) {
      assertThat(served.getOrDefault(q, 0))
          .as("starts of %s among the first %d", q, firsts)
          .isBetween((int) (share * 0.9), (int) Math.ceil(share * 1.1));
    }

    // resumed: the paused queue runs
    client.backend().broker().resume(PAUSED);
    runs(paused, timeout);
    return new Report(inWindow, perSecond, hotMost, coldMost, served);
  }

  /** {start, end} micros of each task's run, waiting up to {@code timeout} for all. */
  private static List<long[]> runs(List<AsyncResult<String>> results, Duration timeout) {
    List<long[]> out = new ArrayList<>(results.size());
    long deadline = System.nanoTime() + timeout.toNanos();
    for (AsyncResult<String> r : results) {
      Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
      String v;
      try {
        v = r.get(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for task " + r.id(), e);
      }
      String[] parts = v.split(",");
      out.add(new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])});
    }
    return out;
  }

  /**
   * The most runs that overlapped, each run {@code {start, end}} (an end at the very moment of a
   * start does not overlap).
   */
  public static int mostAtOnce(List<long[]> runs) {
    List<long[]> edges = new ArrayList<>();
    for (long[] r : runs) {
      edges.add(new long[] {r[0], 1});
      edges.add(new long[] {r[1], -1});
    }
    edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    int now = 0;
    int most = 0;
    for (long[] e : edges) {
      now += (int) e[1];
      most = Math.max(most, now);
    }
    return most;
  }
}
