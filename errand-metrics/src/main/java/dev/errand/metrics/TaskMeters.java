package dev.errand.metrics;

import dev.errand.DeadLetterReason;
import dev.errand.Event;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts what happens to tasks, by task name: {@code errand.tasks} (tags {@code name}, {@code
 * outcome} = succeeded, failed or revoked), the {@code errand.task.runtime} timer with histogram
 * buckets from 5 ms to 10 minutes, {@code errand.task.retries} and {@code errand.dead.lettered}
 * (tags {@code queue}, {@code reason}). In Prometheus they read {@code errand_tasks_total}, {@code
 * errand_task_runtime_seconds_bucket} and so on.
 *
 * <p>Fed by a worker ({@link WorkerMetrics}) or by the backend's event log ({@link #record}).
 *
 * <p>Label values are bounded, so a fleet with many task names (or names made up per call) cannot
 * flood Prometheus with series: the first {@code maxNames} task names (default {@value
 * #DEFAULT_MAX_NAMES}) get series of their own, later ones are counted under the name {@value
 * #OTHER}; the same bound applies to the queue names of {@code errand.dead.lettered}. Thread-safe.
 */
public final class TaskMeters {

  /** The runtime histogram's bucket bounds: wide enough for exports, fine enough for emails. */
  private static final Duration[] RUNTIME_BUCKETS = {
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofMinutes(1),
    Duration.ofMinutes(5),
    Duration.ofMinutes(10)
  };

  private static final String UNKNOWN = "unknown";

  /** How many task (and queue) names get series of their own unless told otherwise: {@value}. */
  public static final int DEFAULT_MAX_NAMES = 200;

  /** The label value of every name beyond the bound: {@value}. */
  public static final String OTHER = "other";

  private final MeterRegistry registry;
  private final Labels names;
  private final Labels queues;

  // A worker records every task here: the meters are looked up once per name, not built anew
  // (a builder, tags and a registry lookup) on each call.
  private final Map<String, Counter> counts = new ConcurrentHashMap<>();
  private final Map<String, Timer> runtimes = new ConcurrentHashMap<>();
  private final Map<String, Counter> retries = new ConcurrentHashMap<>();

  /** Meters registered in {@code registry}, with up to {@value #DEFAULT_MAX_NAMES} names. */
  public TaskMeters(MeterRegistry registry) {
    this(registry, DEFAULT_MAX_NAMES);
  }

  /**
   * Meters registered in {@code registry}: the first {@code maxNames} task names, and as many queue
   * names, get series of their own; later ones count under {@value #OTHER}.
   *
   * @throws IllegalArgumentException if {@code maxNames < 1}
   */
  public TaskMeters(MeterRegistry registry, int maxNames) {
    this.registry = Objects.requireNonNull(registry, "registry");
    if (maxNames < 1) {
      throw new IllegalArgumentException("maxNames must be > 0 but was " + maxNames);
    }
    this.names = new Labels(maxNames);
    this.queues = new Labels(maxNames);
  }

  /** A task ran to success in {@code runtime} (null if not known). */
  public void succeeded(String name, Duration runtime) {
    outcome(name, "succeeded", runtime);
  }

  /** A task failed for good after running for {@code runtime} (null if it never ran). */
  public void failed(String name, Duration runtime) {
    outcome(name, "failed", runtime);
  }

  /** A task was revoked or expired instead of completing. */
  public void revoked(String name) {
    outcome(name, "revoked", null);
  }

  /** An attempt failed and another is scheduled. */
  public void retried(String name) {
    retries
        .computeIfAbsent(
            names.label(name),
            n ->
                Counter.builder("errand.task.retries")
                    .description("failed attempts that were scheduled to run again")
                    .tag("name", n)
                    .register(registry))
        .increment();
  }

  /** A message went to the dead letters of {@code queue}. */
  public void deadLettered(String queue, DeadLetterReason reason) {
    Counter.builder("errand.dead.lettered")
        .description("messages sent to the dead letters")
        .tag("queue", queues.label(queue))
        .tag("reason", reason == null ? UNKNOWN : reason.name().toLowerCase(java.util.Locale.ROOT))
        .register(registry)
        .increment();
  }

  /**
   * Counts one event of the backend's log: succeeded, failed and revoked tasks (with the runtime
   * the worker reported), retries and dead letters; other events are ignored.
   */
  public void record(Event e) {
    Duration runtime =
        e.data() != null && e.data().has("runtimeMs")
            ? Duration.ofMillis(e.data().get("runtimeMs").asLong())
            : null;
    switch (e.type()) {
      case TASK_SUCCEEDED -> succeeded(e.taskName(), runtime);
      case TASK_FAILED -> failed(e.taskName(), runtime);
      case TASK_REVOKED -> revoked(e.taskName());
      case TASK_RETRIED -> retried(e.taskName());
      case TASK_DEAD_LETTERED -> deadLettered(e.queue(), reason(e));
      default -> {}
    }
  }

  private void outcome(String name, String outcome, Duration runtime) {
    String tag = names.label(name);
    String key = tag + '\0' + outcome;
    counts
        .computeIfAbsent(
            key,
            k ->
                Counter.builder("errand.tasks")
                    .description("tasks by name and outcome")
                    .tag("name", tag)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
    if (runtime != null) {
      runtimes
          .computeIfAbsent(
              key,
              k ->
                  Timer.builder("errand.task.runtime")
                      .description("how long handlers ran, by task name and outcome")
                      .tag("name", tag)
                      .tag("outcome", outcome)
                      .serviceLevelObjectives(RUNTIME_BUCKETS)
                      .register(registry))
          .record(runtime);
    }
  }

  private static DeadLetterReason reason(Event e) {
    if (e.data() == null || !e.data().hasNonNull("reason")) {
      return null;
    }
    try {
      return DeadLetterReason.valueOf(e.data().get("reason").asText());
    } catch (IllegalArgumentException unknown) {
      return null;
    }
  }

  private static String orUnknown(String s) {
    return s == null || s.isEmpty() ? UNKNOWN : s;
  }

  /** The label values admitted so far: the first {@code max} names seen, then {@link #OTHER}. */
  private static final class Labels {
    private final int max;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();

    Labels(int max) {
      this.max = max;
    }

    String label(String name) {
      String value = orUnknown(name);
      if (admitted.contains(value)) {
        return value;
      }
      synchronized (this) {
        if (admitted.contains(value) || admitted.size() < max) {
          admitted.add(value);
          return value;
        }
      }
      return OTHER;
    }
  }
}
