package dev.errand.workflow;

import dev.errand.TaskError;

/**
 * One member's outcome, as a {@link dev.errand.ChordPolicy#RUN_WITH_FAILURES} chord's callback is
 * given them: its value, or its error.
 *
 * @param taskId the member's task id (the last task of its chain)
 * @param value its result when it succeeded (null for none), else null
 * @param error its error when it failed or was revoked, else null
 * @param <T> the member's result type
 */
public record Outcome<T>(String taskId, T value, TaskError error) {

  /** Whether the member succeeded. */
  public boolean succeeded() {
    return error == null;
  }
}
