package dev.errand.worker;

import dev.errand.ErrandException;
import java.time.Duration;

/**
 * Thrown by {@link TaskContext#retry(Throwable, Duration)} to ask for another attempt. Throw what
 * it returns ({@code throw ctx.retry(e, Duration.ofSeconds(30))}) so the compiler sees the handler
 * ends there.
 */
public final class RetryException extends ErrandException {
  private static final long serialVersionUID = 1L;

  private final transient Duration countdown;

  /**
   * @param cause why, recorded as the attempt's error (may be null)
   * @param countdown delay before the next attempt, or null for the policy's backoff
   */
  public RetryException(String taskId, String taskName, Throwable cause, Duration countdown) {
    super("retry requested for task " + taskName + " [" + taskId + "]", taskId, taskName, cause);
    this.countdown = countdown;
  }

  /** The requested delay, or null for the policy's backoff. */
  public Duration countdown() {
    return countdown;
  }
}
