package dev.errand.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.ChordPolicy;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.MessageTooLargeException;
import dev.errand.spi.Backend;
import dev.errand.spi.NewMessage;
import dev.errand.spi.WorkflowStore;
import dev.errand.wire.Flow;
import dev.errand.wire.FlowMessages;
import dev.errand.wire.Wire;
import dev.errand.workflow.Chain;
import dev.errand.workflow.Chord;
import dev.errand.workflow.Group;
import dev.errand.workflow.Signature;
import dev.errand.workflow.Workflow;
import dev.errand.workflow.WorkflowParts;
import java.lang.reflect.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Sends a workflow: assigns every task its id (so the whole tree is known from the start), stores
 * each group's membership and each chord (size, policy, its callback's message), then enqueues the
 * first messages in batches. One instance per send; not thread-safe.
 */
final class WorkflowSender {

  /**
   * Steps longer than this when encoded, in bytes ({@value}), are stored once in the backend and
   * referred to by each message, instead of each message carrying the rest of its chain (which
   * makes a chain of n steps cost n² to send on).
   */
  static final int STORE_STEPS_ABOVE = 4096;

  private final Backend backend;
  private final Duration ttl;
  private final int maxMessageBytes;
  private final BiFunction<Signature<?>, String, Flow.Sig> sigs;
  private final Instant now;
  private final List<String[]> groups = new ArrayList<>();
  private final List<List<String>> groupMembers = new ArrayList<>();
  private final List<WorkflowStore.Chord> chords = new ArrayList<>();
  private final List<String> stepIds = new ArrayList<>();
  private final List<byte[]> stepBodies = new ArrayList<>();

  /**
   * @param sigs builds a signature's wire form with the given id (queue, priority, headers and
   *     options resolved as for a plain send)
   */
  WorkflowSender(
      Backend backend,
      Duration ttl,
      int maxMessageBytes,
      BiFunction<Signature<?>, String, Flow.Sig> sigs,
      Instant now) {
    this.backend = backend;
    this.ttl = ttl;
    this.maxMessageBytes = maxMessageBytes;
    this.sigs = sigs;
    this.now = now;
  }

  /**
   * What a send produced.
   *
   * @param first the messages sent now
   * @param ends the ids of the tasks whose results are the workflow's
   * @param id the workflow's id: the group's for a group, else its end task's
   * @param endType unused
   */
  record Sent(List<FlowMessages.Built> first, List<String> ends, String id, Type endType) {}

  Sent chain(Chain<?> chain) {
    List<Flow.Step> steps = steps(chain.steps(), List.of());
    return send(steps, null);
  }

  Sent chord(Chord<?> chord) {
    return chain(WorkflowParts.chainOf(chord));
  }

  Sent group(Group<?> group) {
    String gid = Ids.newId(now.toEpochMilli());
    Flow.GroupStep g = groupStep(gid, group, false, List.of());
    return send(List.of(Flow.Step.of(g)), gid);
  }

  /**
   * Stores what the workflow's messages will need (its groups, chords and long step lists),
   * enqueues its first messages (the broker pipelines a large batch, so workers start on the first
   * while the rest are written), and stores its whole tree under its id (the group's, else its
   * end's): before the messages when they refer to it, else after them, so that workers are not
   * kept waiting for a tree only {@code Client.workflow(id)} reads. Whichever way, it is stored
   * when the send returns.
   */
  private Sent send(List<Flow.Step> steps, String groupId) {
    List<String> ends = new ArrayList<>();
    for (Flow.Sig end : Flow.ends(steps)) {
      ends.add(end.id());
    }
    String workflowId = groupId != null ? groupId : ends.get(0);
    // A single step (a group, a chord) travels in its messages; a longer list is stored once and
    // referred to when it is long.
    byte[] tree = steps.size() > 1 ? Wire.encodeSteps(steps) : null;
    boolean referred = tree != null && tree.length > STORE_STEPS_ABOVE;
    Flow.Rest first =
        referred
            ? new Flow.Rest(steps, workflowId, 0) // its messages refer to the stored tree
            : Flow.Rest.inline(steps);
    List<FlowMessages.Built> messages = FlowMessages.start(first, null, false, now, null);
    List<NewMessage> toSend = new ArrayList<>(messages.size());
    for (FlowMessages.Built b : messages) {
      checkSize(b);
      toSend.add(b.newMessage());
    }
    WorkflowStore store = backend.workflows();
    if (referred) {
      store.putSteps(workflowId, tree, ttl);
    }
    for (int i = 0; i < groups.size(); i++) {
      store.putGroup(groups.get(i)[0], groupMembers.get(i), ttl);
    }
    for (int i = 0; i < stepIds.size(); i++) {
      store.putSteps(stepIds.get(i), stepBodies.get(i), ttl);
    }
    for (WorkflowStore.Chord c : chords) {
      store.putChord(c, ttl);
    }
    backend.broker().enqueue(toSend);
    if (!referred) {
      store.putSteps(workflowId, tree != null ? tree : Wire.encodeSteps(steps), ttl);
    }
    return new Sent(messages, ends, workflowId, null);
  }

  /** The sent-events of the first messages. */
  static List<Event> sentEvents(Sent sent) {
    List<Event> events = new ArrayList<>(sent.first().size());
    for (FlowMessages.Built b : sent.first()) {
      var m = b.message();
      events.add(
          new Event(0, EventType.TASK_SENT, m.sentAt(), m.id(), m.task(), null, m.queue(), null));
    }
    return events;
  }

  private void checkSize(FlowMessages.Built b) {
    int size = b.newMessage().body().length;
    if (size > maxMessageBytes) {
      throw new MessageTooLargeException(
          "message", b.message().id(), b.message().task(), size, maxMessageBytes);
    }
  }

  /**
   * The wire steps of {@code chain} followed by {@code after}: tasks become signatures with ids; a
   * chord becomes a group step whose callback chain takes the rest (so it is always last).
   */
  private List<Flow.Step> steps(List<Workflow> chain, List<Workflow> after) {
    List<Flow.Step> out = new ArrayList<>();
    for (int i = 0; i < chain.size(); i++) {
      Workflow w = chain.get(i);
      if (w instanceof Signature<?> s) {
        out.add(Flow.Step.of(sig(s, null)));
      } else if (w instanceof Chord<?> c) {
        List<Workflow> rest = new ArrayList<>(WorkflowParts.callbackSteps(c));
        rest.addAll(chain.subList(i + 1, chain.size()));
        rest.addAll(after);
        String gid = Ids.newId(now.toEpochMilli());
        out.add(Flow.Step.of(chordStep(gid, c, rest)));
        return out;
      } else {
        throw new IllegalArgumentException("a chain step must be a task or a chord, not " + w);
      }
    }
    if (!after.isEmpty()) {
      out.addAll(steps(after, List.of()));
    }
    return out;
  }

  private Flow.GroupStep chordStep(String gid, Chord<?> chord, List<Workflow> callbackChain) {
    List<Flow.Step> then = steps(callbackChain, List.of());
    Flow.Sig callback = then.get(0).sig();
    Signature<?> callbackSignature = (Signature<?>) callbackChain.get(0);
    // The callback takes the members' results by its own rule; its message is stored with the
    // chord, built now, and sent by the settlement that finishes the last member.
    Flow.Sig asCallback =
        callback.withFlow(
            callback
                .flowOrEmpty()
                .asCallbackOf(gid, chord.policy(), WorkflowParts.pass(callbackSignature)));
    List<Flow.Step> thenWithCallback = new ArrayList<>(then);
    thenWithCallback.set(0, Flow.Step.of(asCallback));
    Flow.GroupStep g = groupStep(gid, chord.header(), true, thenWithCallback);
    FlowMessages.Built built =
        FlowMessages.message(
            withoutPass(asCallback), rest(thenWithCallback, 1), null, false, now, null);
    checkSize(built);
    chords.add(
        new WorkflowStore.Chord(
            gid,
            g.members().size(),
            chord.policy() == null ? ChordPolicy.FAIL : chord.policy(),
            built.newMessage()));
    return g;
  }

  /**
   * Steps {@code from...} of {@code steps}, as the messages will carry them: in the messages, or,
   * when long, stored once (the whole list) and referred to.
   */
  private Flow.Rest rest(List<Flow.Step> steps, int from) {
    List<Flow.Step> tail = steps.subList(from, steps.size());
    if (tail.size() < 2) {
      return Flow.Rest.inline(tail);
    }
    byte[] encoded = Wire.encodeSteps(steps);
    if (encoded.length <= STORE_STEPS_ABOVE) {
      return Flow.Rest.inline(tail);
    }
    String id = Ids.newId(now.toEpochMilli());
    stepIds.add(id);
    stepBodies.add(encoded);
    return new Flow.Rest(tail, id, from);
  }

  /** The callback's own arguments as they are: the results are bound when it runs. */
  private static Flow.Sig withoutPass(Flow.Sig s) {
    return new Flow.Sig(
        s.id(),
        s.task(),
        s.args(),
        s.kwargs(),
        s.queue(),
        s.priority(),
        s.countdownMs(),
        s.expiresMs(),
        s.headers(),
        s.options(),
        null,
        s.flow());
  }

  private Flow.GroupStep groupStep(
      String gid, Group<?> group, boolean chord, List<Flow.Step> then) {
    List<List<Flow.Sig>> members = new ArrayList<>(group.size());
    List<String> ends = new ArrayList<>(group.size());
    for (int index = 0; index < group.size(); index++) {
      List<Signature<?>> chain = WorkflowParts.memberChain(group.members().get(index));
      List<Flow.Sig> member = new ArrayList<>(chain.size());
      for (int k = 0; k < chain.size(); k++) {
        Flow.Member header = k == chain.size() - 1 ? new Flow.Member(gid, index, chord) : null;
        member.add(sig(chain.get(k), header));
      }
      ends.add(member.get(member.size() - 1).id());
      members.add(member);
    }
    groups.add(new String[] {gid});
    groupMembers.add(ends);
    return new Flow.GroupStep(gid, members, then);
  }

  /** A signature's wire form with a new id, its callbacks and, if given, its group membership. */
  private Flow.Sig sig(Signature<?> s, Flow.Member member) {
    String id = Ids.newId(now.toEpochMilli());
    Flow.Sig base = sigs.apply(s, id);
    List<Flow.Sig> link = new ArrayList<>();
    for (Signature<?> l : WorkflowParts.link(s)) {
      link.add(sig(l, null));
    }
    List<Flow.Sig> linkError = new ArrayList<>();
    for (Signature<?> l : WorkflowParts.linkError(s)) {
      linkError.add(sig(l, null));
    }
    Flow own = Flow.own(link, linkError, member);
    return base.withFlow(own.changesNothing() ? null : own);
  }

  static JsonNode none() {
    return Wire.mapper().nullNode();
  }
}
