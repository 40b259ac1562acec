package dev.errand;

import java.time.Duration;

/** Thrown when waiting for a result took longer than the given timeout; the task goes on. */
public final class ResultTimeoutException extends ErrandException {
  private static final long serialVersionUID = 1L;

  private final TaskState lastState;

  /** Waited {@code timeout} for task {@code taskId}, last seen in {@code lastState}. */
  public ResultTimeoutException(String taskId, Duration timeout, TaskState lastState) {
    super(
        "task [" + taskId + "] not ready after " + timeout + " (state " + lastState + ")",
        taskId,
        null,
        null);
    this.lastState = lastState;
  }

  /** The state the task was in when the wait gave up. */
  public TaskState lastState() {
    return lastState;
  }
}
