package dev.errand;

/** Thrown by {@link AsyncResult#get(java.time.Duration)} when the task was revoked or expired. */
public final class TaskRevokedException extends ErrandException {
  private static final long serialVersionUID = 1L;

  private final String reason;

  /** Task {@code taskId} was revoked for {@code reason} ("revoked", "expired"). */
  public TaskRevokedException(String taskId, String taskName, String reason) {
    super("task " + taskName + " [" + taskId + "] was revoked: " + reason, taskId, taskName, null);
    this.reason = reason;
  }

  /** Why: {@code "revoked"} or {@code "expired"}. */
  public String reason() {
    return reason;
  }
}
