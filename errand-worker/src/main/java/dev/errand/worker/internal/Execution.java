package dev.errand.worker.internal;

import dev.errand.RetryPolicy;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.wire.TaskMessage;
import dev.errand.worker.TaskRegistry;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One attempt of one task, from receipt to outcome. Shared between the thread running the handler
 * and the worker's timer (time limits, revocation); exactly one of them settles it.
 */
public final class Execution {

  final Delivery delivery;
  final TaskMessage message;
  final TaskRegistry.Registration<?, ?> registration;
  final TaskOptions options;
  final RetryPolicy retryPolicy;
  final boolean ignoreResult;
  final boolean acksLate;
  final String workerName;

  /** Who records an attempt's outcome: exactly one of them. */
  enum Settler {
    /** The thread that ran the handler, once it returned or threw. */
    HANDLER,
    /** The worker's timer (hard time limit) or its shutdown; the handler's thread is abandoned. */
    TIMER
  }

  private static final Runnable NOTHING = () -> {};

  private final AtomicReference<Settler> settledBy = new AtomicReference<>();
  private final AtomicBoolean submitted = new AtomicBoolean();
  private final AtomicBoolean written = new AtomicBoolean();
  volatile TaskStatus status;
  volatile Thread thread;
  volatile Instant startedAt;
  volatile long startedNanos;
  volatile Instant softDeadline;
  volatile Instant hardDeadline;
  volatile boolean softLimitHit;
  volatile boolean revoked;
  volatile boolean shuttingDown;
  volatile boolean acked;

  /**
   * A retry held back while the thread of this attempt, stuck past its hard time limit, still runs.
   *
   * @param error the attempt's error
   * @param eta when the retry was planned
   * @param runtime how long the attempt ran until its hard limit
   */
  record HeldRetry(dev.errand.TaskError error, Instant eta, java.time.Duration runtime) {}

  /**
   * Set while a retry waits for this attempt's stuck thread to end; the lease is kept meanwhile.
   */
  volatile HeldRetry heldRetry;

  /** The state its outcome recorded (SUCCESS, RETRY, FAILURE, REVOKED), once written. */
  volatile TaskState outcome;

  private volatile Runnable onSubmitted = NOTHING;
  private volatile Runnable onWritten = NOTHING;
  DefaultTaskContext context;

  Execution(
      Delivery delivery,
      TaskMessage message,
      TaskRegistry.Registration<?, ?> registration,
      TaskOptions options,
      TaskStatus status,
      String workerName) {
    this.delivery = delivery;
    this.message = message;
    this.registration = registration;
    this.options = options;
    this.retryPolicy = options.retry() != null ? options.retry() : RetryPolicy.defaults();
    this.ignoreResult = Boolean.TRUE.equals(options.ignoreResult());
    this.acksLate = options.acksLate() == null ? TaskOptions.DEFAULT_ACKS_LATE : options.acksLate();
    this.status = status;
    this.workerName = workerName;
  }

  /** The task id. */
  public String id() {
    return message.id();
  }

  /** The task name. */
  public String name() {
    return message.task();
  }

  /** The broker delivery. */
  public Delivery delivery() {
    return delivery;
  }

  /** When the handler started, or null before. */
  public Instant startedAt() {
    return startedAt;
  }

  /** The thread running the handler, or null before it starts. */
  public Thread thread() {
    return thread;
  }

  /** The context, or null before the handler starts. */
  public DefaultTaskContext context() {
    return context;
  }

  /** Claims the right to record this attempt's outcome for the handler's thread. */
  boolean settle() {
    return settle(Settler.HANDLER);
  }

  /** Claims the right to record this attempt's outcome; true for exactly one caller. */
  boolean settle(Settler who) {
    return settledBy.compareAndSet(null, who);
  }

  /**
   * Closes the attempt for the handler's thread if nobody settled it (for example after a store
   * failure), so the timer can no longer act on it.
   */
  public void close() {
    settledBy.compareAndSet(null, Settler.HANDLER);
  }

  /** Whether the outcome is recorded (or being recorded). */
  public boolean isSettled() {
    return settledBy.get() != null;
  }

  /**
   * Whether the timer settled it (hard time limit or shutdown): the handler's thread is abandoned.
   */
  public boolean settledByTimer() {
    return settledBy.get() == Settler.TIMER;
  }

  /** Whether this worker still holds the delivery (acks late, not acked yet). */
  boolean holdsDelivery() {
    return acksLate && !acked;
  }

  /**
   * Sets the worker's bookkeeping: {@code onSubmitted} runs once the outcome is handed to the
   * writer (the slot is free), {@code onWritten} once the writer is done with it (the lease may
   * go).
   */
  public void hooks(Runnable onSubmitted, Runnable onWritten) {
    this.onSubmitted = onSubmitted;
    this.onWritten = onWritten;
  }

  /** The outcome is handed to the writer (or there will be none); runs the hook once. */
  void submitted() {
    if (submitted.compareAndSet(false, true)) {
      onSubmitted.run();
    }
  }

  /** Whether an outcome was handed to the writer. */
  public boolean isSubmitted() {
    return submitted.get();
  }

  /** The writer is done with the outcome; runs the hook once. */
  void written() {
    if (written.compareAndSet(false, true)) {
      onWritten.run();
    }
  }

  /**
   * Ends the bookkeeping of an attempt that recorded no outcome (its store failed, or the worker
   * was halted): the message stays leased until its lease runs out.
   */
  public void abandonWithoutOutcome() {
    submitted();
    written();
  }

  /** Whether the handler was interrupted for a shutdown. */
  public boolean shuttingDown() {
    return shuttingDown;
  }

  /** Whether it was revoked while held. */
  public boolean revoked() {
    return revoked;
  }

  /** Whether the handler should stop. */
  boolean isCancelled() {
    return softLimitHit || revoked || shuttingDown;
  }

  /** Soft time limit: flag and interrupt. Called by the timer. */
  public void softLimit() {
    softLimitHit = true;
    interrupt();
  }

  /** Revocation of a running task: flag and interrupt. */
  public void revoke() {
    revoked = true;
    interrupt();
  }

  /** Shutdown past its grace period: flag and interrupt. */
  public void cancelForShutdown() {
    shuttingDown = true;
    interrupt();
  }

  /** The soft deadline, or null. */
  public Instant softDeadline() {
    return softDeadline;
  }

  /** The hard deadline, or null. */
  public Instant hardDeadline() {
    return hardDeadline;
  }

  /** Whether the soft limit already fired. */
  public boolean softLimitHit() {
    return softLimitHit;
  }

  private void interrupt() {
    Thread t = thread;
    if (t != null && settledBy.get() == null) {
      t.interrupt();
    }
  }
}
