package dev.errand.metrics;

import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.worker.TaskContext;
import dev.errand.worker.WorkerListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A worker's own meters, as a {@link WorkerListener}: the {@link TaskMeters} for the tasks this
 * process runs, {@code errand.worker.running} (tasks running now), {@code errand.worker.abandoned}
 * (threads given up after a hard time limit) and {@code errand.worker.broker.errors}.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(backend).tasks(tasks)
 *     .listener(new WorkerMetrics(registry))   // e.g. Spring Boot's MeterRegistry
 *     .build();
 * new BackendMetrics(backend).bindTo(registry); // queue depth and lag, dead letters, workers
 * }</pre>
 *
 * <p>Counters here count this process only; add them up across workers (Prometheus {@code sum}).
 * Thread-safe.
 */
public final class WorkerMetrics implements WorkerListener {

  private final TaskMeters tasks;
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final Counter abandoned;
  private final Counter brokerErrors;

  /**
   * Meters registered in {@code registry}, with up to {@value TaskMeters#DEFAULT_MAX_NAMES} task
   * names.
   */
  public WorkerMetrics(MeterRegistry registry) {
    this(registry, TaskMeters.DEFAULT_MAX_NAMES);
  }

  /**
   * Meters registered in {@code registry}; task names beyond the first {@code maxNames} count under
   * {@value TaskMeters#OTHER} (see {@link TaskMeters}).
   *
   * @throws IllegalArgumentException if {@code maxNames < 1}
   */
  public WorkerMetrics(MeterRegistry registry, int maxNames) {
    Objects.requireNonNull(registry, "registry");
    this.tasks = new TaskMeters(registry, maxNames);
    Gauge.builder("errand.worker.running", running, Set::size)
        .description("tasks running in this worker now")
        .register(registry);
    this.abandoned =
        Counter.builder("errand.worker.abandoned")
            .description("handler threads abandoned after outliving their hard time limit")
            .register(registry);
    this.brokerErrors =
        Counter.builder("errand.worker.broker.errors")
            .description("times the worker could not reach the broker")
            .register(registry);
  }

  @Override
  public void taskStarted(TaskContext ctx) {
    running.add(ctx.id());
  }

  @Override
  public void taskSucceeded(TaskContext ctx, Duration runtime) {
    running.remove(ctx.id());
    tasks.succeeded(ctx.name(), runtime);
  }

  @Override
  public void taskRetried(TaskContext ctx, TaskError error, Duration delay, Duration runtime) {
    running.remove(ctx.id());
    tasks.retried(ctx.name());
  }

  @Override
  public void taskFailed(TaskContext ctx, TaskError error, Duration runtime) {
    running.remove(ctx.id());
    tasks.failed(ctx.name(), runtime);
  }

  @Override
  public void taskRevoked(String taskId, String taskName, String reason) {
    running.remove(taskId);
    tasks.revoked(taskName);
  }

  @Override
  public void deadLettered(DeadLetter deadLetter) {
    tasks.deadLettered(deadLetter.queue(), deadLetter.reason());
    // A message that never reached a handler (undecodable, unknown, crash loop) has no
    // taskFailed call; it failed all the same.
    if (deadLetter.reason() != DeadLetterReason.FAILED
        && deadLetter.reason() != DeadLetterReason.INVALID_ARGUMENTS) {
      tasks.failed(deadLetter.taskName(), null);
    }
  }

  @Override
  public void threadAbandoned(TaskContext ctx, Thread thread) {
    abandoned.increment();
  }

  @Override
  public void brokerUnavailable(Exception error, Duration backoff) {
    brokerErrors.increment();
  }
}
