package dev.errand;

/**
 * The states of a task, with Celery's names.
 *
 * <p>A task starts {@link #PENDING} (nothing is known about it yet: an unknown id is also PENDING),
 * moves through {@link #RECEIVED} and {@link #STARTED}, may report {@link #PROGRESS} and {@link
 * #RETRY}, and ends in one of the three <em>ready</em> states {@link #SUCCESS}, {@link #FAILURE} or
 * {@link #REVOKED}.
 */
public enum TaskState {
  /** Sent but not yet received by a worker, or unknown. */
  PENDING,
  /** A worker has received the message. */
  RECEIVED,
  /** A worker has started the handler. */
  STARTED,
  /** The handler reported progress with {@code ctx.progress(...)}; the meta is in the status. */
  PROGRESS,
  /** The attempt failed and another attempt is scheduled. */
  RETRY,
  /** The handler returned; the result is stored. */
  SUCCESS,
  /** The task failed for good: the error and traceback are stored. */
  FAILURE,
  /** The task was revoked, or expired before it started. */
  REVOKED;

  /** Returns true for the final states SUCCESS, FAILURE and REVOKED. */
  public boolean isReady() {
    return this == SUCCESS || this == FAILURE || this == REVOKED;
  }
}
