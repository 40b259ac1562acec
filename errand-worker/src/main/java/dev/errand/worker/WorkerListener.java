package dev.errand.worker;

import dev.errand.DeadLetter;
import dev.errand.TaskError;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Told about what a worker does, for metrics (a Micrometer binder is a listener) and alerts. Every
 * method defaults to doing nothing. Called from worker threads: implementations must be thread-safe
 * and quick, and exceptions they throw are logged and ignored.
 */
public interface WorkerListener {

  /**
   * One listener that tells each of {@code listeners} in turn; one that throws is logged and the
   * rest are still told.
   */
  static WorkerListener all(List<? extends WorkerListener> listeners) {
    List<WorkerListener> ls = List.copyOf(listeners);
    if (ls.size() == 1) {
      return ls.get(0);
    }
    return new WorkerListener() {
      private void each(Consumer<WorkerListener> call) {
        for (WorkerListener l : ls) {
          try {
            call.accept(l);
          } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(WorkerListener.class)
                .warn("worker listener {} failed: {}", l, e.toString());
          }
        }
      }

      @Override
      public void taskStarted(TaskContext ctx) {
        each(l -> l.taskStarted(ctx));
      }

      @Override
      public void taskSucceeded(TaskContext ctx, Duration runtime) {
        each(l -> l.taskSucceeded(ctx, runtime));
      }

      @Override
      public void taskRetried(TaskContext ctx, TaskError error, Duration delay, Duration runtime) {
        each(l -> l.taskRetried(ctx, error, delay, runtime));
      }

      @Override
      public void taskFailed(TaskContext ctx, TaskError error, Duration runtime) {
        each(l -> l.taskFailed(ctx, error, runtime));
      }

      @Override
      public void taskRevoked(String taskId, String taskName, String reason) {
        each(l -> l.taskRevoked(taskId, taskName, reason));
      }

      @Override
      public void deadLettered(DeadLetter deadLetter) {
        each(l -> l.deadLettered(deadLetter));
      }

      @Override
      public void threadAbandoned(TaskContext ctx, Thread thread) {
        each(l -> l.threadAbandoned(ctx, thread));
      }

      @Override
      public void brokerUnavailable(Exception error, Duration backoff) {
        each(l -> l.brokerUnavailable(error, backoff));
      }
    };
  }

  /** A handler is about to run. */
  default void taskStarted(TaskContext ctx) {}

  /** A handler returned and its result is recorded. */
  default void taskSucceeded(TaskContext ctx, Duration runtime) {}

  /** An attempt failed and another is scheduled after {@code delay}. */
  default void taskRetried(TaskContext ctx, TaskError error, Duration delay, Duration runtime) {}

  /** The task failed for good. */
  default void taskFailed(TaskContext ctx, TaskError error, Duration runtime) {}

  /** The task was revoked (or expired) instead of completing. */
  default void taskRevoked(String taskId, String taskName, String reason) {}

  /** A message went to the dead letter list. */
  default void deadLettered(DeadLetter deadLetter) {}

  /**
   * A handler outlived its hard time limit: its outcome is recorded, its slot given to a new
   * thread, and {@code thread} abandoned.
   */
  default void threadAbandoned(TaskContext ctx, Thread thread) {}

  /** The worker could not reach the broker; it will retry after {@code backoff}. */
  default void brokerUnavailable(Exception error, Duration backoff) {}
}
