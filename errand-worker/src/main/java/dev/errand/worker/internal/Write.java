package dev.errand.worker.internal;

import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.Settlement;
import java.util.List;
import java.util.function.Function;

/**
 * One unit the {@link OutcomeWriter} stores: a {@link Settlement}, which the backend applies
 * atomically — an attempt's outcome (its status, how its delivery ends, a dead letter, the
 * workflow's follow-ups), or a status on its own (RECEIVED, STARTED, PROGRESS: a settlement with no
 * delivery).
 *
 * @param settlement what to apply, or null for a flush marker
 * @param onWritten run on the writer's thread once it is applied (events, listeners); not run when
 *     the backend found the delivery's receipt stale (nothing was applied)
 * @param onDone run once the write is over, whether it was applied, found stale, replaced or given
 *     up
 * @param ifUnstorable the write that replaces this one when it can never be stored (a FAILURE with
 *     a dead letter that leaves out what could not be stored), or null to give it up
 */
record Write(
    Settlement settlement,
    Runnable onWritten,
    Runnable onDone,
    Function<Throwable, Write> ifUnstorable) {

  private static final Runnable NOTHING = () -> {};

  Write {
    onWritten = onWritten == null ? NOTHING : onWritten;
    onDone = onDone == null ? NOTHING : onDone;
  }

  /**
   * A status on its own (RECEIVED, STARTED, PROGRESS): nothing else depends on it. Stored only
   * while {@code delivery}'s receipt is current, so an attempt whose lease was lost cannot undo the
   * outcome of the attempt that replaced it; with no delivery (a task that acked early) it is
   * stored as it is.
   */
  static Write status(TaskStatus status, Delivery delivery) {
    return new Write(
        new Settlement(
            delivery,
            delivery == null ? null : Settlement.Ending.KEEP,
            null,
            List.of(status),
            List.of(),
            null),
        null,
        null,
        null);
  }

  /** A write that only marks a point in the queue: it is over once everything before it is. */
  static Write marker(Runnable onDone) {
    return new Write(null, null, onDone, null);
  }

  /** The id of the task it belongs to, for logs; null for a marker. */
  String taskId() {
    return settlement == null ? null : settlement.taskId();
  }

  /**
   * Whether it is a status on its own that nobody waits for: it may wait for the writer's next
   * round ({@link OutcomeWriter#LINGER_NANOS}), and a later status of the same task in the same
   * batch makes it redundant.
   */
  boolean isLoneStatus() {
    return settlement != null
        && (settlement.delivery() == null || settlement.ending() instanceof Settlement.Ending.Keep)
        && settlement.deadLetter() == null
        && settlement.followUps().isEmpty()
        && settlement.chordPart() == null
        && settlement.statuses().size() == 1
        && onWritten == NOTHING
        && onDone == NOTHING;
  }

  /** The same write with {@code after} run once it is over, after its own {@link #onDone}. */
  Write thenDone(Runnable after) {
    Runnable first = onDone;
    return new Write(
        settlement,
        onWritten,
        () -> {
          first.run();
          after.run();
        },
        ifUnstorable);
  }
}
