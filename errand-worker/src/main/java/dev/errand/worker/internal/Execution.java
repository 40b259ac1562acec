package dev.errand.worker.internal;

import dev.errand.RetryPolicy;
import dev.errand.TaskOptions;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.wire.TaskMessage;
import dev.errand.worker.TaskRegistry;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

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

  static final int HANDLER = 1;
  static final int TIMER = 2;

  private final AtomicInteger settledBy = new AtomicInteger();
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
  volatile boolean completionPending;
  volatile Runnable onDone = () -> {};
  private final java.util.concurrent.atomic.AtomicBoolean finished =
      new java.util.concurrent.atomic.AtomicBoolean();
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
    return settle(HANDLER);
  }

  /** Claims the right to record this attempt's outcome; true for exactly one caller. */
  boolean settle(int owner) {
    return settledBy.compareAndSet(0, owner);
  }

  /**
   * Closes the attempt for the handler's thread if nobody settled it (for example after a store
   * failure), so the timer can no longer act on it.
   */
  public void close() {
    settledBy.compareAndSet(0, HANDLER);
  }

  /** Whether the outcome is recorded (or being recorded). */
  public boolean isSettled() {
    return settledBy.get() != 0;
  }

  /**
   * Whether the timer settled it (hard time limit or shutdown): the handler's thread is abandoned.
   */
  public boolean settledByTimer() {
    return settledBy.get() == TIMER;
  }

  /** Sets what runs once the outcome is written (the engine frees the slot's bookkeeping). */
  public void onDone(Runnable onDone) {
    this.onDone = onDone;
  }

  /** Whether the outcome was handed to the status writer and is not written yet. */
  public boolean completionPending() {
    return completionPending;
  }

  private boolean slotReleased; // guarded by this

  /**
   * The handler's thread is done and the outcome is only waiting to be written: frees the slot
   * early, unless the attempt has already finished.
   *
   * @return true if the slot was released (the attempt now counts as a pending write)
   */
  public synchronized boolean releaseSlot() {
    if (finished.get()) {
      return false;
    }
    slotReleased = true;
    return true;
  }

  /**
   * True exactly once: the first caller does the bookkeeping of a finished attempt.
   *
   * @return 0 if already finished, 1 if it still held its slot, 2 if it was a pending write
   */
  public synchronized int markFinished() {
    if (!finished.compareAndSet(false, true)) {
      return 0;
    }
    return slotReleased ? 2 : 1;
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
    if (t != null && settledBy.get() == 0) {
      t.interrupt();
    }
  }
}
