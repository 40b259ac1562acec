package dev.errand;

/**
 * Thrown inside a handler when its soft time limit has passed: by {@code ctx.checkCancelled()}, and
 * recorded as the error when the handler gives up because it was interrupted. A handler may catch
 * it to clean up. Retried like any exception unless the retry policy says otherwise.
 */
public final class SoftTimeLimitExceeded extends ErrandException {
  private static final long serialVersionUID = 1L;

  /** The soft time limit of task {@code taskId} passed. */
  public SoftTimeLimitExceeded(String taskId, String taskName, String message) {
    super(message, taskId, taskName, null);
  }
}
