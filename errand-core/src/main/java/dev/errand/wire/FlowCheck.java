package dev.errand.wire;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Checks a decoded {@link Flow} once, when its message is decoded, so that a message whose workflow
 * could never be advanced (a step with priority 42, a signature without a task) is dead-lettered on
 * its first delivery with the reason, instead of failing every settlement of the step that carries
 * it. Iterative: a hostile document cannot overflow the stack.
 */
final class FlowCheck {

  private FlowCheck() {}

  /** What is wrong with {@code flow}, or null if nothing. */
  static String problem(Flow flow) {
    Deque<Object> todo = new ArrayDeque<>();
    todo.push(flow);
    while (!todo.isEmpty()) {
      Object next = todo.pop();
      if (next instanceof Flow f) {
        if (f.member() != null && f.member().index() < 0) {
          return "a group member index must be >= 0 but was " + f.member().index();
        }
        for (Flow.Step step : f.next()) {
          todo.push(step);
        }
        pushAll(todo, f.link());
        pushAll(todo, f.linkError());
      } else if (next instanceof Flow.Step step) {
        if (step.sig() != null) {
          todo.push(step.sig());
        } else {
          Flow.GroupStep g = step.group();
          if (g.members().isEmpty()) {
            return "group " + g.id() + " has no members";
          }
          for (List<Flow.Sig> member : g.members()) {
            if (member.isEmpty()) {
              return "a member of group " + g.id() + " has no task";
            }
            pushAll(todo, member);
          }
          for (Flow.Step s : g.then()) {
            todo.push(s);
          }
        }
      } else if (next instanceof Flow.Sig sig) {
        String bad = sigProblem(sig);
        if (bad != null) {
          return bad;
        }
        if (sig.flow() != null) {
          todo.push(sig.flow());
        }
      }
    }
    return null;
  }

  private static void pushAll(Deque<Object> todo, List<Flow.Sig> sigs) {
    for (Flow.Sig s : sigs) {
      todo.push(s);
    }
  }

  private static String sigProblem(Flow.Sig s) {
    if (s.id().isEmpty() || s.task().isEmpty() || s.queue().isEmpty()) {
      return "a step needs a non-empty id, task and queue";
    }
    if (s.priority() < 0 || s.priority() > 9) {
      return "step " + s.id() + " has priority " + s.priority() + " (must be 0-9)";
    }
    if ((s.countdownMs() != null && s.countdownMs() < 0)) {
      return "step " + s.id() + " has a negative countdownMs";
    }
    if (s.pass() != null
        && !s.pass().equals(Flow.Pass.ARGS)
        && !s.pass().equals(Flow.Pass.WHOLE)
        && !(s.pass().startsWith(Flow.Pass.KWARG_PREFIX)
            && s.pass().length() > Flow.Pass.KWARG_PREFIX.length())) {
      return "step " + s.id() + " has an unknown pass '" + s.pass() + "'";
    }
    try {
      s.options().toTaskOptions();
    } catch (IllegalArgumentException e) {
      return "step " + s.id() + " has invalid options: " + Wire.firstLine(e);
    }
    Wire.checkDepth(s.args(), "arguments of step " + s.id(), s.id(), s.task());
    Wire.checkDepth(s.kwargs(), "arguments of step " + s.id(), s.id(), s.task());
    return null;
  }
}
