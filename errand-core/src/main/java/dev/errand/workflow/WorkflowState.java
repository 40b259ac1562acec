package dev.errand.workflow;

import dev.errand.TaskState;
import java.util.List;

/**
 * A sent workflow as a whole, read by {@link dev.errand.Client#workflow}: every task of it with its
 * state, in order, and the one holding it up. Immutable.
 *
 * @param id the workflow's id (a group's id, else the id of its end task)
 * @param steps every task, in order: chain steps, each group's members, a chord's callback chain,
 *     and the {@code link} / {@code linkError} callbacks after the task they belong to
 * @param blockedBy the first task (not a callback) that has not succeeded: the one running or
 *     waiting, or where the workflow stopped if it failed; null when all have succeeded
 */
public record WorkflowState(String id, List<Step> steps, String blockedBy) {

  public WorkflowState {
    steps = List.copyOf(steps);
  }

  /** Whether every task (not counting callbacks) has succeeded. */
  public boolean succeeded() {
    return blockedBy == null;
  }

  /** Whether it stopped: the task holding it up failed or was revoked. */
  public boolean stopped() {
    return steps.stream()
        .anyMatch(
            s ->
                s.taskId().equals(blockedBy)
                    && (s.state() == TaskState.FAILURE || s.state() == TaskState.REVOKED));
  }

  /** What a task is in its workflow. */
  public enum Role {
    /** A step of a chain. */
    STEP,
    /** A member of a group (or a step of a member's chain). */
    MEMBER,
    /** A chord's callback: it runs once every member has finished. */
    CALLBACK,
    /** A {@code link} callback: it runs if the task before it succeeds. */
    LINK,
    /** A {@code linkError} callback: it runs if the task before it fails. */
    LINK_ERROR
  }

  /**
   * One task of the workflow.
   *
   * @param taskId its id
   * @param task its name
   * @param state its state (PENDING until a worker receives it, or if it never runs)
   * @param position where it is: {@code 2} (the second step), {@code 3.1} (member 1 of the group at
   *     step 3), {@code 3.1.2} (step 2 of that member's chain)
   * @param role what it is
   * @param group the group it belongs to, or null
   */
  public record Step(
      String taskId, String task, TaskState state, String position, Role role, String group) {}
}
