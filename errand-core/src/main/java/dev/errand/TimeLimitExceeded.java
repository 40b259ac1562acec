package dev.errand;

/**
 * Recorded as the error of a task whose hard time limit passed: the worker gave up on it, freed its
 * slot and abandoned its thread. Retried like any exception unless the policy says otherwise.
 */
public final class TimeLimitExceeded extends ErrandException {
  private static final long serialVersionUID = 1L;

  /** The hard time limit of task {@code taskId} passed. */
  public TimeLimitExceeded(String taskId, String taskName, String message) {
    super(message, taskId, taskName, null);
  }
}
