package dev.errand;

/**
 * A message or argument that cannot be decoded or bound: malformed JSON, a missing field, an
 * unsupported format version, or arguments that do not fit the task's argument type.
 */
public final class InvalidMessageException extends ErrandException {
  private static final long serialVersionUID = 1L;

  /** Task {@code taskId} (possibly null) has an invalid message, described by {@code message}. */
  public InvalidMessageException(String message, String taskId, String taskName, Throwable cause) {
    super(message, taskId, taskName, cause);
  }
}
