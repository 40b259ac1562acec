package dev.errand;

import java.util.Objects;

/**
 * Thrown by {@link AsyncResult#get(java.time.Duration)} when the task ended in FAILURE. Carries the
 * remote error's type, message and traceback; no remote class is ever instantiated.
 */
public final class TaskFailedException extends ErrandException {
  private static final long serialVersionUID = 1L;

  private final TaskError error;

  /** A failure of task {@code taskId} named {@code taskName} with {@code error}. */
  public TaskFailedException(String taskId, String taskName, TaskError error) {
    super(
        "task " + taskName + " [" + taskId + "] failed: " + Objects.requireNonNull(error, "error"),
        taskId,
        taskName,
        null);
    this.error = error;
  }

  /** The remote error. */
  public TaskError error() {
    return error;
  }

  /** The remote exception's class name, e.g. {@code java.io.IOException}. */
  public String remoteType() {
    return error.type();
  }

  /** The remote exception's message, possibly null. */
  public String remoteMessage() {
    return error.message();
  }

  /** The remote traceback, possibly null. */
  public String traceback() {
    return error.traceback();
  }
}
