package dev.errand.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.ChordPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The rest of a workflow, carried by a task message (its {@code flow} field, format version 2):
 * what runs after this task, the callbacks on its outcome, and the group it is a member of. The
 * worker that settles the task turns it into follow-up messages in the same atomic unit as the
 * task's outcome ({@link dev.errand.spi.Settlement}). Immutable; see {@code docs/wire-format.md}.
 *
 * @param next the steps after this task, in order (empty at the end of a chain, or when they are
 *     {@code stored}); a {@link GroupStep} can only be last
 * @param stored where the steps after this task are stored instead ({@link
 *     dev.errand.spi.WorkflowStore#putSteps}): a long chain keeps its steps in the backend once,
 *     not in each of its messages; or null
 * @param link tasks sent when this task succeeds, each given its result
 * @param linkError tasks sent when this task fails for good, each given the failed task (its id,
 *     name and error) as its first argument
 * @param member the group member this task ends (the last step of the member's chain), or null
 * @param chordOf the group id whose results this task takes as its argument (a chord's callback),
 *     or null
 * @param policy the failure policy of that chord, or null (FAIL)
 * @param pass how a chord's callback takes the results ({@link Pass}), or null to ignore them
 */
public record Flow(
    List<Step> next,
    Stored stored,
    List<Sig> link,
    List<Sig> linkError,
    Member member,
    String chordOf,
    ChordPolicy policy,
    String pass) {

  public Flow {
    next = next == null ? List.of() : List.copyOf(next);
    link = link == null ? List.of() : List.copyOf(link);
    linkError = linkError == null ? List.of() : List.copyOf(linkError);
    for (int i = 0; i < next.size() - 1; i++) {
      if (next.get(i).group() != null) {
        throw new IllegalArgumentException("a group can only be the last step of a chain");
      }
    }
  }

  /** A flow of a task's own: its callbacks and its group membership, no next steps. */
  public static Flow own(List<Sig> link, List<Sig> linkError, Member member) {
    return new Flow(List.of(), null, link, linkError, member, null, null, null);
  }

  /** The same flow as a chord's callback. */
  public Flow asCallbackOf(String groupId, ChordPolicy chordPolicy, String resultPass) {
    return new Flow(next, stored, link, linkError, member, groupId, chordPolicy, resultPass);
  }

  /** The same flow ending member {@code m} of a group. */
  public Flow withMember(Member m) {
    return new Flow(next, stored, link, linkError, m, chordOf, policy, pass);
  }

  /**
   * The steps after a task, kept in the backend: steps {@code at} and later of the list stored as
   * {@code steps}.
   *
   * @param steps the id they are stored under
   * @param at the index of the next step in that list
   */
  public record Stored(String steps, int at) {
    public Stored {
      Objects.requireNonNull(steps, "steps");
      if (at < 0) {
        throw new IllegalArgumentException("at must be >= 0 but was " + at);
      }
    }
  }

  /**
   * The steps that follow a task, and where they are stored if they are: {@code steps} is the
   * logical list; with {@code storedAs} set they are items {@code at...} of that stored list, and
   * the next messages refer to it instead of carrying them.
   *
   * @param steps the remaining steps
   * @param storedAs the stored list's id, or null when they travel in the messages
   * @param at the index of {@code steps.get(0)} in the stored list
   */
  public record Rest(List<Step> steps, String storedAs, int at) {
    /** Steps that travel in the messages. */
    public static Rest inline(List<Step> steps) {
      return new Rest(steps, null, 0);
    }

    /** The steps after the first. */
    public Rest afterFirst() {
      return new Rest(steps.subList(1, steps.size()), storedAs, at + 1);
    }

    /** The flow fields that carry these steps: the list, or a reference to the stored one. */
    Flow into(Flow own) {
      Flow f = own == null ? Flow.own(null, null, null) : own;
      boolean ref = storedAs != null && !steps.isEmpty();
      return new Flow(
          ref ? List.of() : steps,
          ref ? new Stored(storedAs, at) : null,
          f.link(),
          f.linkError(),
          f.member(),
          f.chordOf(),
          f.policy(),
          f.pass());
    }
  }

  /** How the previous step's result reaches a task. */
  public static final class Pass {
    /** Prepended to the positional arguments (Celery's rule). */
    public static final String ARGS = "args";

    /** The result is the whole argument: an object's fields become kwargs, else one arg. */
    public static final String WHOLE = "whole";

    /** Bound to one keyword argument: {@code kwarg:NAME}. */
    public static final String KWARG_PREFIX = "kwarg:";

    private Pass() {}
  }

  /**
   * A task not sent yet, with its id assigned.
   *
   * @param id its task id
   * @param task its name
   * @param args positional arguments
   * @param kwargs keyword arguments
   * @param queue the queue it goes to
   * @param priority 0-9
   * @param countdownMs delay from the moment it is sent, or null
   * @param expiresMs how long after it is sent it expires, or null
   * @param headers its headers
   * @param options its execution options
   * @param pass how it takes the previous result ({@link Pass}), or null to ignore it (immutable)
   * @param flow its own callbacks and group membership (its {@code next} is given by its place), or
   *     null
   */
  public record Sig(
      String id,
      String task,
      ArrayNode args,
      ObjectNode kwargs,
      String queue,
      int priority,
      Long countdownMs,
      Long expiresMs,
      Map<String, String> headers,
      MessageOptions options,
      String pass,
      Flow flow) {

    public Sig {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(task, "task");
      Objects.requireNonNull(queue, "queue");
      args = args == null ? Wire.mapper().createArrayNode() : args;
      kwargs = kwargs == null ? Wire.mapper().createObjectNode() : kwargs;
      headers = headers == null ? Map.of() : Map.copyOf(headers);
      options = options == null ? MessageOptions.NONE : options;
    }

    /** The same signature with another flow. */
    public Sig withFlow(Flow f) {
      return new Sig(
          id,
          task,
          args,
          kwargs,
          queue,
          priority,
          countdownMs,
          expiresMs,
          headers,
          options,
          pass,
          f);
    }

    /** Its flow, or an empty one. */
    public Flow flowOrEmpty() {
      return flow == null ? Flow.own(null, null, null) : flow;
    }

    /** The arguments it runs with when given {@code previous} (if {@code hasPrevious}). */
    public Arguments.Json argumentsWith(JsonNode previous, boolean hasPrevious) {
      if (pass == null || !hasPrevious) {
        return new Arguments.Json(args, kwargs);
      }
      return passed(pass, args, kwargs, previous);
    }
  }

  /**
   * {@code args} and {@code kwargs} with {@code value} passed in by rule {@code pass} ({@link
   * Pass}); the given nodes are not changed.
   */
  public static Arguments.Json passed(
      String pass, ArrayNode args, ObjectNode kwargs, JsonNode value) {
    JsonNode v = value == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : value;
    if (pass.equals(Pass.WHOLE) && v.isObject() && args.isEmpty()) {
      ObjectNode merged = ((ObjectNode) v).deepCopy();
      merged.setAll(kwargs); // the step's own keyword arguments win
      return new Arguments.Json(args, merged);
    }
    if (pass.startsWith(Pass.KWARG_PREFIX)) {
      ObjectNode merged = kwargs.deepCopy();
      merged.set(pass.substring(Pass.KWARG_PREFIX.length()), v);
      return new Arguments.Json(args, merged);
    }
    ArrayNode prepended = Wire.mapper().createArrayNode();
    prepended.add(v);
    prepended.addAll(args);
    return new Arguments.Json(prepended, kwargs);
  }

  /**
   * One step of a chain: a task, or a group (with its callback chain, making it a chord).
   *
   * @param sig the task, or null
   * @param group the group, or null
   */
  public record Step(Sig sig, GroupStep group) {
    public Step {
      if ((sig == null) == (group == null)) {
        throw new IllegalArgumentException("a step is a task or a group");
      }
    }

    public static Step of(Sig sig) {
      return new Step(sig, null);
    }

    public static Step of(GroupStep group) {
      return new Step(null, group);
    }
  }

  /**
   * A group reached by a chain.
   *
   * @param id the group's id (also its chord's)
   * @param members each member's chain of tasks; the last of each carries its {@link Member}
   * @param then the chord's callback chain (its first task takes the members' results), empty for a
   *     plain group; its callback message is stored with the chord when the workflow is sent
   */
  public record GroupStep(String id, List<List<Sig>> members, List<Step> then) {
    public GroupStep {
      Objects.requireNonNull(id, "id");
      members = members.stream().map(List::copyOf).toList();
      then = then == null ? List.of() : List.copyOf(then);
    }
  }

  /**
   * This task ends member {@code index} of group {@code group}.
   *
   * @param group the group id
   * @param index the member's index, from 0
   * @param chord whether the group is a chord's header (the member's outcome is counted)
   */
  public record Member(String group, int index, boolean chord) {
    public Member {
      Objects.requireNonNull(group, "group");
    }
  }

  /** Whether this flow changes anything: a plain task's messages carry none. */
  public boolean changesNothing() {
    return next.isEmpty()
        && stored == null
        && link.isEmpty()
        && linkError.isEmpty()
        && member == null
        && chordOf == null;
  }

  /**
   * The tasks where the workflow path through {@code steps} ends: whose result is the workflow's
   * (the last task of a chain; every member's last task for a chain that ends in a plain group; the
   * callback chain's end for a chord). Empty when {@code steps} is.
   */
  public static List<Sig> ends(List<Step> steps) {
    List<Sig> out = new ArrayList<>();
    collectEnds(steps, out);
    return out;
  }

  private static void collectEnds(List<Step> steps, List<Sig> out) {
    if (steps.isEmpty()) {
      return;
    }
    Step last = steps.get(steps.size() - 1);
    if (last.sig() != null) {
      out.add(last.sig());
    } else if (!last.group().then().isEmpty()) {
      collectEnds(last.group().then(), out);
    } else {
      for (List<Sig> member : last.group().members()) {
        if (!member.isEmpty()) {
          out.add(member.get(member.size() - 1));
        }
      }
    }
  }
}
