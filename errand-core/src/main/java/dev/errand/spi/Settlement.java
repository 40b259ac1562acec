package dev.errand.spi;

import dev.errand.DeadLetter;
import dev.errand.TaskStatus;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Everything one attempt's outcome changes, applied by {@link Backend#settle} atomically or not at
 * all: a dead letter, the task's status (and, when a workflow stops, the statuses it ends), how the
 * delivery ends, the follow-up messages (the next step of a chain, {@code link} callbacks) and the
 * chord member it finishes. Applied only while the delivery's receipt is current: an attempt whose
 * lease was lost changes nothing, so only the attempt that ends a delivery advances its workflow.
 *
 * <p>The backend applies the parts in the order of {@link Step}; a reader never sees some of them
 * without the others.
 *
 * @param delivery the delivery this attempt holds, whose receipt must be current; null when the
 *     delivery is already gone (a task that acks early), in which case nothing is checked
 * @param ending how the delivery ends; null exactly when {@code delivery} is null
 * @param deadLetter a dead letter to add, or null
 * @param statuses statuses to store (replace), in order, possibly empty
 * @param followUps messages to enqueue, possibly empty; one whose id is already in its queue is not
 *     enqueued again
 * @param chordPart the chord member this attempt finishes, or null
 */
public record Settlement(
    Delivery delivery,
    Ending ending,
    DeadLetter deadLetter,
    List<TaskStatus> statuses,
    List<NewMessage> followUps,
    ChordPart chordPart) {

  public Settlement {
    statuses = List.copyOf(statuses);
    followUps = List.copyOf(followUps);
    if ((delivery == null) != (ending == null)) {
      throw new IllegalArgumentException(
          "a settlement has an ending exactly when it has a delivery");
    }
  }

  /**
   * The id of the task it settles, for logs: the delivery's, else its first status's or message's.
   */
  public String taskId() {
    if (delivery != null) {
      return delivery.id();
    }
    if (!statuses.isEmpty()) {
      return statuses.get(0).id();
    }
    return followUps.isEmpty() ? null : followUps.get(0).id();
  }

  /** The parts of a settlement, in the order a backend applies them. */
  public enum Step {
    /** The delivery's receipt was checked (nothing written yet). */
    RECEIPT_CHECKED,
    /** The dead letter was added. */
    DEAD_LETTER,
    /** The statuses were stored. */
    STATUSES,
    /** The delivery was ended (or, for {@link Ending#KEEP}, left as it is). */
    ENDING,
    /** The follow-up messages were enqueued. */
    FOLLOW_UPS,
    /** The chord part was recorded (and the callback enqueued if it completed the chord). */
    CHORD_PART,
    /** Everything was committed. */
    COMMITTED
  }

  /** How a delivery ends. */
  public sealed interface Ending {
    /** Removes the message for good. */
    Ending ACK = new Ack();

    /** Hands the message back at once, in its place, taking back its delivery count. */
    Ending RELEASE = new Release();

    /**
     * Leaves the delivery as it is: the settlement only needs the receipt to be current (a status
     * that ends nothing, RECEIVED, STARTED or PROGRESS, from an attempt that still holds its lease:
     * an attempt whose lease was lost must not overwrite the outcome of the one that replaced it).
     */
    Ending KEEP = new Keep();

    /** Removes the message for good (see {@link Broker#ack}). */
    record Ack() implements Ending {}

    /** Returns the message to its queue at once (see {@link Broker#release}). */
    record Release() implements Ending {}

    /** Changes nothing of the delivery; the receipt is still checked. */
    record Keep() implements Ending {}

    /**
     * Replaces the message's body and makes it deliverable again at {@code notBefore} (see {@link
     * Broker#retry}).
     */
    record Retry(byte[] body, Instant notBefore) implements Ending {
      public Retry {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(notBefore, "notBefore");
      }
    }
  }

  /**
   * Member {@code index} of chord {@code chordId} finished: succeeded, or failed for good (after
   * its last retry, dead-lettered or revoked). Recorded by index, so settling the same member again
   * (a re-run after a crash, a re-drive from the dead letters) replaces its part and never counts
   * twice. See {@link WorkflowStore} for when the chord's callback is enqueued.
   *
   * @param chordId the chord (its header group's id)
   * @param index the member's index in the group, from 0
   * @param failed whether it failed
   */
  public record ChordPart(String chordId, int index, boolean failed) {
    public ChordPart {
      Objects.requireNonNull(chordId, "chordId");
      if (index < 0) {
        throw new IllegalArgumentException("chord member index must be >= 0 but was " + index);
      }
    }
  }
}
