package dev.errand.worker.internal;

import dev.errand.DeadLetter;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.time.Instant;
import java.util.function.Function;

/**
 * One unit the {@link OutcomeWriter} stores, in this order: the dead letter, the status, then the
 * broker operation that ends the delivery. A crash between the steps repeats the task and never
 * loses it.
 *
 * @param taskId the task it belongs to, for logs
 * @param deadLetter a dead letter to add first, or null
 * @param status a status to store, or null
 * @param ending how the delivery ends, or null (an intermediate status: RECEIVED, STARTED...)
 * @param onWritten run on the writer's thread once everything is stored (events, listeners)
 * @param onDone run once the write is over, whether it was stored, replaced or given up
 * @param ifUnstorable the write that replaces this one when it can never be stored (a FAILURE with
 *     a dead letter that leaves out what could not be stored), or null to give it up
 */
record Write(
    String taskId,
    DeadLetter deadLetter,
    TaskStatus status,
    Ending ending,
    Runnable onWritten,
    Runnable onDone,
    Function<Throwable, Write> ifUnstorable) {

  private static final Runnable NOTHING = () -> {};

  Write {
    onWritten = onWritten == null ? NOTHING : onWritten;
    onDone = onDone == null ? NOTHING : onDone;
  }

  /** A status on its own (RECEIVED, STARTED, PROGRESS): nothing else depends on it. */
  static Write status(TaskStatus status) {
    return new Write(status.id(), null, status, null, null, null, null);
  }

  /**
   * Whether it may wait for the writer's next round ({@link OutcomeWriter#LINGER_NANOS}): a status
   * that ends nothing and that nobody waits for.
   */
  boolean canWait() {
    return status != null
        && deadLetter == null
        && ending == null
        && onWritten == NOTHING
        && onDone == NOTHING;
  }

  /** Whether it can join a group commit: no dead letter, and the delivery (if any) is acked. */
  boolean batchable() {
    return deadLetter == null && (ending == null || ending instanceof Ending.Ack);
  }

  /** The same write with {@code after} run once it is over, after its own {@link #onDone}. */
  Write thenDone(Runnable after) {
    Runnable first = onDone;
    return new Write(
        taskId,
        deadLetter,
        status,
        ending,
        onWritten,
        () -> {
          first.run();
          after.run();
        },
        ifUnstorable);
  }

  /** How a delivery ends. */
  sealed interface Ending {
    /** The delivery this ends, or null when it is ended by a new message. */
    Delivery delivery();

    /** Removes the message for good. */
    record Ack(Delivery delivery) implements Ending {}

    /** Replaces the body and makes the message ready again at {@code notBefore}. */
    record Retry(Delivery delivery, byte[] body, Instant notBefore) implements Ending {}

    /** Hands the message back at once, in its place (not started, or stopped by a shutdown). */
    record Release(Delivery delivery) implements Ending {}

    /** The delivery is already gone (acked early): the message is sent anew with the same id. */
    record Resend(NewMessage message) implements Ending {
      @Override
      public Delivery delivery() {
        return null;
      }
    }
  }
}
