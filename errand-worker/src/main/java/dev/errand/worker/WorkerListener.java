package dev.errand.worker;

import dev.errand.DeadLetter;
import dev.errand.TaskError;
import java.time.Duration;

/**
 * Told about what a worker does, for metrics (a Micrometer binder is a listener) and alerts. Every
 * method defaults to doing nothing. Called from worker threads: implementations must be thread-safe
 * and quick, and exceptions they throw are logged and ignored.
 */
public interface WorkerListener {

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
