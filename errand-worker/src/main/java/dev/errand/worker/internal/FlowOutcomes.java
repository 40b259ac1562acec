package dev.errand.worker.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.wire.Flow;
import dev.errand.wire.FlowMessages;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import dev.errand.workflow.FailedTask;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a task's outcome does to its workflow, as parts of its {@link Settlement}: on success, the
 * next step's messages (the result passed on), its {@code link} callbacks and its chord part; on a
 * final failure or revocation, the failure of the workflow's end (so whoever waits on the chain
 * learns at once), the {@code linkError} callbacks and a failed chord part. A retry changes
 * nothing. Stateless.
 */
final class FlowOutcomes {

  /** The error type a chain's end gets when an earlier step failed: {@value}. */
  static final String CHAIN_FAILED = "dev.errand.ChainStepFailed";

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FlowOutcomes.class);

  private final StepsCache steps;

  FlowOutcomes(StepsCache steps) {
    this.steps = steps;
  }

  /** The steps after {@code m}'s task; none (logged) if its stored steps are gone. */
  private Flow.Rest rest(TaskMessage m) {
    try {
      return steps.rest(m.flow());
    } catch (IllegalStateException e) {
      log.error("task {} [{}]: {}", m.task(), m.id(), e.getMessage());
      return Flow.Rest.inline(List.of());
    }
  }

  /**
   * The parts a settlement adds.
   *
   * @param statuses statuses of other tasks (the ends of a stopped chain)
   * @param followUps messages to send
   * @param chordPart the chord member finished, or null
   */
  record Effects(List<TaskStatus> statuses, List<NewMessage> followUps, Settlement.ChordPart part) {
    static final Effects NONE = new Effects(List.of(), List.of(), null);
  }

  /** Whether {@code m}'s outcome must be stored even if its task ignores results. */
  static boolean resultNeeded(TaskMessage m) {
    return m.flow() != null && m.flow().member() != null;
  }

  Effects succeeded(TaskMessage m, JsonNode result, Instant now) {
    Flow f = m.flow();
    if (f == null) {
      return Effects.NONE;
    }
    List<NewMessage> out = new ArrayList<>();
    for (Flow.Sig s : f.link()) {
      out.add(
          FlowMessages.message(s, Flow.Rest.inline(List.of()), result, true, now, m.id())
              .newMessage());
    }
    for (FlowMessages.Built b : FlowMessages.start(rest(m), result, true, now, m.id())) {
      out.add(b.newMessage());
    }
    Flow.Member member = f.member();
    Settlement.ChordPart part =
        member != null && member.chord()
            ? new Settlement.ChordPart(member.group(), member.index(), false)
            : null;
    return new Effects(List.of(), out, part);
  }

  /**
   * A final failure (or, with {@code state} REVOKED, a revocation) of the task of {@code m}.
   *
   * @param failed the task's own final status (its error or reason)
   */
  Effects failed(TaskMessage m, TaskStatus failed, TaskState state, Instant now) {
    Flow f = m.flow();
    if (f == null) {
      return Effects.NONE;
    }
    TaskError error =
        failed.error() != null
            ? failed.error()
            : TaskError.of(
                "dev.errand.TaskRevoked", failed.reason() == null ? "revoked" : failed.reason());
    JsonNode errback = Wire.mapper().valueToTree(new FailedTask(m.id(), m.task(), error));
    List<NewMessage> out = new ArrayList<>();
    for (Flow.Sig s : f.linkError()) {
      out.add(
          FlowMessages.message(s, Flow.Rest.inline(List.of()), errback, true, now, m.id())
              .newMessage());
    }
    List<TaskStatus> ends = new ArrayList<>();
    Settlement.ChordPart part = null;
    if (f.member() != null && f.member().chord()) {
      part = new Settlement.ChordPart(f.member().group(), f.member().index(), true);
    }
    for (Flow.Sig end : Flow.ends(rest(m).steps())) {
      ends.add(endStatus(m, end, error, state, now));
      Flow ef = end.flow();
      if (ef == null) {
        continue;
      }
      for (Flow.Sig s : ef.linkError()) {
        out.add(
            FlowMessages.message(s, Flow.Rest.inline(List.of()), errback, true, now, m.id())
                .newMessage());
      }
      if (part == null && ef.member() != null && ef.member().chord()) {
        // The chain this task belongs to was a chord's member: it ends here, failed.
        part = new Settlement.ChordPart(ef.member().group(), ef.member().index(), true);
      }
    }
    return new Effects(ends, out, part);
  }

  /** The status of a workflow's end when step {@code m} stopped it. */
  private static TaskStatus endStatus(
      TaskMessage m, Flow.Sig end, TaskError cause, TaskState state, Instant now) {
    String why = "step " + m.task() + " [" + m.id() + "] of its chain ";
    TaskStatus named = TaskStatus.pending(end.id(), end.task(), end.queue(), now);
    if (state == TaskState.REVOKED) {
      return named.withReason(why + "was revoked").withState(TaskState.REVOKED, now);
    }
    TaskError error =
        new TaskError(
            CHAIN_FAILED,
            why + "failed: " + cause.type() + ": " + cause.message(),
            cause.traceback());
    return named.withError(error).withState(TaskState.FAILURE, now);
  }
}
