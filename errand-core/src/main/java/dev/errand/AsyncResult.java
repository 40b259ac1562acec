package dev.errand;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A handle on a task's outcome. Reading is cheap and never blocks except in {@link #get}; waiting
 * uses the backend's notification, never a busy loop. Thread-safe.
 *
 * @param <R> the result type
 */
public interface AsyncResult<R> {

  /** The task id. */
  String id();

  /** The current state; PENDING if nothing is known yet (or the result expired). */
  TaskState state();

  /** The full stored status: state, result or error, progress, timestamps, worker, attempt. */
  TaskStatus status();

  /** Whether the task is in a ready state (SUCCESS, FAILURE or REVOKED). */
  default boolean isReady() {
    return state().isReady();
  }

  /**
   * Waits up to {@code timeout} for the outcome and returns the result.
   *
   * @throws TaskFailedException if the task failed, with the remote error type, message and
   *     traceback
   * @throws TaskRevokedException if the task was revoked or expired
   * @throws ResultTimeoutException if it is not ready within {@code timeout}; when no live worker
   *     consumes the task's queue at that moment its message says so, and names the queue ({@link
   *     ResultTimeoutException#unconsumedQueue()}). That costs one read of the live workers, made
   *     only when the wait times out.
   * @throws IllegalStateException if the task was sent with {@code ignoreResult}
   * @throws InterruptedException if the waiting thread is interrupted
   */
  R get(Duration timeout) throws InterruptedException;

  /**
   * A future completed with the result, or exceptionally with {@link TaskFailedException} or {@link
   * TaskRevokedException}. Cancelling it stops waiting; the task goes on.
   */
  CompletableFuture<R> toCompletableFuture();

  /** The latest progress meta reported with {@code ctx.progress(...)}, if any. */
  Optional<JsonNode> progress();

  /**
   * Revokes the task: a worker that receives it skips it, and a running one is asked to stop.
   *
   * @return false if it was already ready
   */
  boolean revoke();
}
