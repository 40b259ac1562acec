package dev.errand;

/**
 * The root of every exception Errand throws. Unchecked. Subtypes carry the task's id and name where
 * one is known.
 */
public abstract class ErrandException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String taskId;
  private final String taskName;

  protected ErrandException(String message, String taskId, String taskName, Throwable cause) {
    super(message, cause);
    this.taskId = taskId;
    this.taskName = taskName;
  }

  /** The id of the task concerned, or null. */
  public String taskId() {
    return taskId;
  }

  /** The name of the task concerned, or null. */
  public String taskName() {
    return taskName;
  }
}
