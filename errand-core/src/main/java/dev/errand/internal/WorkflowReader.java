package dev.errand.internal;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.wire.Flow;
import dev.errand.wire.Wire;
import dev.errand.workflow.WorkflowState;
import dev.errand.workflow.WorkflowState.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a sent workflow: its stored tree, and every task's state in one batched read. Stateless.
 */
final class WorkflowReader {

  private WorkflowReader() {}

  /** Where a task sits, before its state is known. */
  private record Node(Flow.Sig sig, String position, Role role, String group) {}

  static Optional<WorkflowState> read(Backend backend, String id) {
    Optional<byte[]> stored = backend.workflows().steps(id);
    if (stored.isEmpty()) {
      return Optional.empty();
    }
    List<Node> nodes = new ArrayList<>();
    flatten(Wire.decodeSteps(stored.get()), "", Role.STEP, null, nodes);
    List<String> ids = new ArrayList<>(nodes.size());
    for (Node n : nodes) {
      ids.add(n.sig().id());
    }
    Map<String, TaskStatus> statuses = backend.results().getAll(ids);
    List<WorkflowState.Step> steps = new ArrayList<>(nodes.size());
    String blockedBy = null;
    for (Node n : nodes) {
      TaskStatus s = statuses.get(n.sig().id());
      TaskState state = s == null ? TaskState.PENDING : s.state();
      steps.add(
          new WorkflowState.Step(
              n.sig().id(), n.sig().task(), state, n.position(), n.role(), n.group()));
      boolean callback = n.role() == Role.LINK || n.role() == Role.LINK_ERROR;
      if (blockedBy == null && !callback && state != TaskState.SUCCESS) {
        blockedBy = n.sig().id();
      }
    }
    return Optional.of(new WorkflowState(id, steps, blockedBy));
  }

  /** Every task of {@code steps}, in order; positions under {@code prefix}. */
  static List<String> ids(List<Flow.Step> steps) {
    List<Node> nodes = new ArrayList<>();
    flatten(steps, "", Role.STEP, null, nodes);
    List<String> ids = new ArrayList<>(nodes.size());
    for (Node n : nodes) {
      ids.add(n.sig().id());
    }
    return ids;
  }

  private static void flatten(
      List<Flow.Step> steps, String prefix, Role role, String group, List<Node> out) {
    int position = 0;
    for (Flow.Step step : steps) {
      position++;
      String here = prefix + position;
      if (step.sig() != null) {
        add(
            step.sig(),
            here,
            position == 1 && role == Role.CALLBACK ? role : stepRole(role),
            group,
            out);
        continue;
      }
      Flow.GroupStep g = step.group();
      int member = 0;
      for (List<Flow.Sig> chain : g.members()) {
        member++;
        int k = 0;
        for (Flow.Sig sig : chain) {
          k++;
          String at = chain.size() == 1 ? here + "." + member : here + "." + member + "." + k;
          add(sig, at, Role.MEMBER, g.id(), out);
        }
      }
      // The callback chain continues the numbering after the group.
      List<Node> then = new ArrayList<>();
      flatten(g.then(), "", Role.CALLBACK, null, then);
      for (Node n : then) {
        out.add(new Node(n.sig(), prefix + renumber(n.position(), position), n.role(), n.group()));
      }
    }
  }

  private static Role stepRole(Role role) {
    return role == Role.CALLBACK ? Role.STEP : role;
  }

  private static String renumber(String position, int offset) {
    int dot = position.indexOf('.');
    String head = dot < 0 ? position : position.substring(0, dot);
    String tail = dot < 0 ? "" : position.substring(dot);
    return (Integer.parseInt(head) + offset) + tail;
  }

  private static void add(Flow.Sig sig, String position, Role role, String group, List<Node> out) {
    out.add(new Node(sig, position, role, group));
    Flow f = sig.flow();
    if (f == null) {
      return;
    }
    for (Flow.Sig l : f.link()) {
      out.add(new Node(l, position + "+", Role.LINK, null));
    }
    for (Flow.Sig l : f.linkError()) {
      out.add(new Node(l, position + "!", Role.LINK_ERROR, null));
    }
  }
}
