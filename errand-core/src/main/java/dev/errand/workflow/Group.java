package dev.errand.workflow;

import java.util.List;
import java.util.Objects;

/**
 * Members that run in parallel: tasks, or chains of tasks (a member's result is its chain's last
 * result). Sent with {@link dev.errand.Client#send(Group)}, it gives a {@link GroupResult} that any
 * process can read by the group's id. Immutable and thread-safe.
 *
 * @param <R> the members' result type
 */
public final class Group<R> implements Workflow {

  final List<Workflow> members;

  Group(List<? extends Workflow> members) {
    Objects.requireNonNull(members, "members");
    for (Workflow w : members) {
      Objects.requireNonNull(w, "a group member is null");
      if (w instanceof Group<?> || w instanceof Chord<?>) {
        throw new IllegalArgumentException(
            "a group member is a task or a chain of tasks, not " + w.getClass().getSimpleName());
      }
      if (w instanceof Chain<?> c) {
        for (Workflow step : c.steps) {
          if (!(step instanceof Signature<?>)) {
            throw new IllegalArgumentException(
                "a chain inside a group may hold only tasks, not " + step);
          }
        }
      }
    }
    if (members.isEmpty()) {
      throw new IllegalArgumentException("a group needs at least one member");
    }
    this.members = List.copyOf(members);
  }

  /** The members, in order. */
  public List<Workflow> members() {
    return members;
  }

  /** How many members it has. */
  public int size() {
    return members.size();
  }

  @Override
  public String toString() {
    return "Group" + members;
  }
}
