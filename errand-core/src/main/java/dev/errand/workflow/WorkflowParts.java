package dev.errand.workflow;

import dev.errand.TaskOptions;
import dev.errand.wire.Arguments;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * What Errand's client and worker read from a workflow to send it. Internal: not for applications,
 * and it may change in any release.
 */
public final class WorkflowParts {

  private WorkflowParts() {}

  /** A chain holding only {@code chord}. */
  public static Chain<?> chainOf(Chord<?> chord) {
    return new Chain<>(List.of(chord));
  }

  /** The steps of a chord's callback chain. */
  public static List<Workflow> callbackSteps(Chord<?> chord) {
    return chord.callback.steps;
  }

  /** A group member as its chain of tasks (one for a task). */
  public static List<Signature<?>> memberChain(Workflow member) {
    if (member instanceof Signature<?> s) {
      return List.of(s);
    }
    List<Signature<?>> out = new ArrayList<>();
    for (Workflow w : ((Chain<?>) member).steps) {
      out.add((Signature<?>) w);
    }
    return out;
  }

  /** The task name. */
  public static String task(Signature<?> s) {
    return s.task;
  }

  /** The encoded arguments. */
  public static Arguments.Json arguments(Signature<?> s) {
    return s.arguments;
  }

  /** The task definition's options (none for a call by name). */
  public static TaskOptions defaults(Signature<?> s) {
    return s.defaults;
  }

  /** The call's own options. */
  public static TaskOptions options(Signature<?> s) {
    return s.options;
  }

  /** How it takes the previous result, or null. */
  public static String pass(Signature<?> s) {
    return s.pass;
  }

  /** Its result type. */
  public static Type resultType(Signature<?> s) {
    return s.resultType;
  }

  /** Its success callbacks. */
  public static List<Signature<?>> link(Signature<?> s) {
    return s.link;
  }

  /** Its failure callbacks. */
  public static List<Signature<?>> linkError(Signature<?> s) {
    return s.linkError;
  }

  /** The signature whose result is the workflow's: the last task, or the callback chain's. */
  public static Signature<?> end(Workflow w) {
    if (w instanceof Signature<?> s) {
      return s;
    }
    if (w instanceof Chord<?> c) {
      return end(c.callback);
    }
    if (w instanceof Chain<?> c) {
      return end(c.steps.get(c.steps.size() - 1));
    }
    throw new IllegalArgumentException("a group has no single end: " + w);
  }

  /** The member whose result is member {@code i}'s. */
  public static Signature<?> memberEnd(Group<?> g, int i) {
    return end(g.members.get(i));
  }
}
