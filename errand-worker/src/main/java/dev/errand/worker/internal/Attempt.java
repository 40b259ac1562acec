package dev.errand.worker.internal;

import dev.errand.RetryPolicy;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.wire.TaskMessage;
import dev.errand.worker.TaskRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One attempt of one task, from its receipt to its outcome: a state machine whose transitions are
 * compare-and-sets on one {@link State}, so that exactly one party — the slot thread that ran the
 * handler, the timer at the hard time limit, or the shutdown — decides how the attempt ends.
 *
 * <pre>
 *            start            settle            handedOver
 * RECEIVED ────────▶ STARTED ────────▶ SETTLING ──────────▶ SETTLED
 *    │                 │ │
 *    │                 │ └── abandon ──▶ ABANDONED ──hold──▶ HELD
 *    │                 │                     ▲                │
 *    │                 │                     └──releaseHeld───┘
 *    └─── handBack ────┴──────────────▶ HANDED_BACK
 *
 *    (and drop / leaveSlot to DROPPED, below)
 * </pre>
 *
 * <table>
 *   <caption>Transitions, and the thread that makes each</caption>
 *   <tr><th>transition<th>from<th>to<th>by
 *   <tr><td>{@link #start}<td>RECEIVED<td>STARTED<td>the slot thread, before the handler
 *   <tr><td>{@link #settle}<td>STARTED<td>SETTLING<td>the slot thread: the handler returned or
 *       threw, or the attempt cannot run (revoked, bad arguments, a chord that failed)
 *   <tr><td>{@link #settle}<td>RECEIVED<td>SETTLING<td>the fetch thread: revoked or expired on
 *       receipt (never queued)
 *   <tr><td>{@link #handedOver}<td>SETTLING<td>SETTLED<td>the settling thread: the outcome went to
 *       the writer
 *   <tr><td>{@link #abandon}<td>STARTED<td>ABANDONED<td>the timer, at the hard time limit: it
 *       records the outcome; the thread is abandoned and replaced
 *   <tr><td>{@link #hold}<td>ABANDONED<td>HELD<td>the timer: the retry waits for the stuck thread
 *   <tr><td>{@link #releaseHeld}<td>HELD<td>ABANDONED<td>the timer: the stuck thread has ended and
 *       the retry is sent
 *   <tr><td>{@link #handBack}<td>RECEIVED, STARTED<td>HANDED_BACK<td>the shutdown: prefetched, or
 *       still running past its grace
 *   <tr><td>{@link #drop}<td>RECEIVED<td>DROPPED<td>the timer: its lease was lost while prefetched
 *   <tr><td>{@link #leaveSlot}<td>STARTED, SETTLING<td>DROPPED<td>the slot thread: nothing could be
 *       handed to the writer
 * </table>
 *
 * <p>SETTLED, ABANDONED, HANDED_BACK and DROPPED are ends (HELD goes back to ABANDONED once its
 * retry is sent). ABANDONED, HELD and HANDED_BACK from STARTED mean the attempt was taken from its
 * slot thread, which then leaves the slots ({@link #leaveSlot} returns false).
 *
 * <p>The worker's bookkeeping ({@link Hooks}) follows the transitions: {@link Hooks#submitted} once
 * the attempt stops holding its place of the worker's capacity (SETTLED, taken from its slot, or
 * ended without an outcome), and {@link Hooks#written} once the writer is done with its outcome (at
 * once when there is none): the worker renews its lease till then. Why the handler should stop is a
 * separate set of {@link Cancellation}s.
 *
 * <p>Thread-safe: the state and the cancellations are atomic; what the slot thread records when it
 * starts the attempt (its thread, start time, deadlines, context) is written before {@link #start}
 * publishes it, and read only after a state read that follows it.
 */
public final class Attempt {

  /** Where an attempt is in its life. */
  enum State {
    /** Decoded, checked and recorded RECEIVED; waits in the prefetch queue for a slot. */
    RECEIVED,
    /** A slot thread runs its handler. */
    STARTED,
    /** The slot thread (or the fetch thread, on receipt) claimed the outcome and builds it. */
    SETTLING,
    /** Its outcome is handed to the writer; its slot is free. */
    SETTLED,
    /**
     * The timer claimed the outcome at the hard time limit: the handler's thread is abandoned and
     * replaced, and its late result is discarded.
     */
    ABANDONED,
    /**
     * Abandoned with a retry that waits until the stuck thread ends, so that two attempts of the
     * task never run at once; the lease is kept meanwhile.
     */
    HELD,
    /** Returned to its queue unfinished by a shutdown; nothing of the attempt is recorded. */
    HANDED_BACK,
    /**
     * Ended without an outcome: its lease was lost while prefetched, or its outcome could not be
     * recorded. The message comes back when its lease runs out.
     */
    DROPPED
  }

  /** Why the handler should stop. */
  enum Cancellation {
    /** Its soft time limit passed. */
    SOFT_LIMIT,
    /** It was revoked. */
    REVOKED,
    /** The worker is shutting down and its grace period is over. */
    SHUTDOWN
  }

  /** The worker's bookkeeping of the attempts it holds. Called at most once each, per attempt. */
  interface Hooks {
    /** No bookkeeping (eager mode, and attempts that never reach the prefetch queue). */
    Hooks NONE =
        new Hooks() {
          @Override
          public void submitted(Attempt a) {}

          @Override
          public void written(Attempt a) {}
        };

    /**
     * {@code a} no longer holds its place of the worker's capacity: its outcome went to the writer,
     * it was taken from its slot, or it ended without an outcome.
     */
    void submitted(Attempt a);

    /** The writer is done with the outcome of {@code a}, or there is none: its lease may go. */
    void written(Attempt a);
  }

  /**
   * A retry held back while the thread of this attempt, stuck past its hard time limit, still runs.
   *
   * @param error the attempt's error
   * @param eta when the retry was planned
   * @param runtime how long the attempt ran until its hard limit
   */
  record HeldRetry(TaskError error, Instant eta, Duration runtime) {}

  final Delivery delivery;
  final TaskMessage message;
  final TaskRegistry.Registration<?, ?> registration;
  final TaskOptions options;
  final RetryPolicy retryPolicy;
  final boolean ignoreResult;
  final boolean acksLate;
  final String workerName;

  private final Hooks hooks;
  private final AtomicReference<State> state = new AtomicReference<>(State.RECEIVED);
  private final AtomicInteger cancellations = new AtomicInteger();

  /** The status as last recorded (RECEIVED, STARTED, PROGRESS): outcomes are built from it. */
  volatile TaskStatus status;

  /** Whether its delivery was acked before the handler ran (the task acks early). */
  private volatile boolean acked;

  // Written by the slot thread before the start transition publishes them.
  private Thread thread;
  private DefaultTaskContext context;
  private Instant startedAt;
  private long startedNanos;
  private Instant softDeadline;
  private Instant hardDeadline;

  // Written by the timer before the hold transition publishes it; kept until the attempt is over.
  private HeldRetry heldRetry;

  /**
   * The state its outcome recorded (SUCCESS, RETRY, FAILURE, REVOKED), or null: written and read on
   * the writer's thread only.
   */
  TaskState outcome;

  Attempt(
      Delivery delivery,
      TaskMessage message,
      TaskRegistry.Registration<?, ?> registration,
      TaskOptions options,
      TaskStatus status,
      String workerName,
      Hooks hooks) {
    this.delivery = delivery;
    this.message = message;
    this.registration = registration;
    this.options = options;
    this.retryPolicy = options.retry() != null ? options.retry() : RetryPolicy.defaults();
    this.ignoreResult = Boolean.TRUE.equals(options.ignoreResult());
    this.acksLate = options.acksLate() == null ? TaskOptions.DEFAULT_ACKS_LATE : options.acksLate();
    this.status = status;
    this.workerName = workerName;
    this.hooks = hooks;
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

  /** Where it is now; it may have moved on by the time the caller looks. */
  State state() {
    return state.get();
  }

  // ---- transitions ----

  /**
   * RECEIVED → STARTED, by the slot thread about to run the handler: records the thread, the start
   * and the deadlines, which the timer reads from then on.
   *
   * @return false if a shutdown handed it back first (the handler must not run)
   */
  boolean start(DefaultTaskContext context, Instant now, long nanos) {
    this.thread = Thread.currentThread();
    this.context = context;
    this.startedAt = now;
    this.startedNanos = nanos;
    this.softDeadline = options.softTimeLimit() == null ? null : now.plus(options.softTimeLimit());
    this.hardDeadline = options.hardTimeLimit() == null ? null : now.plus(options.hardTimeLimit());
    return state.compareAndSet(State.RECEIVED, State.STARTED);
  }

  /**
   * STARTED (or RECEIVED) → SETTLING: claims the right to record the outcome, for the slot thread
   * (the handler returned or threw, or the attempt cannot run) or for the fetch thread (revoked or
   * expired on receipt).
   *
   * @return true for exactly one caller; false if the timer or the shutdown took it first
   */
  boolean settle() {
    return state.compareAndSet(State.STARTED, State.SETTLING)
        || state.compareAndSet(State.RECEIVED, State.SETTLING);
  }

  /**
   * SETTLING → SETTLED once the outcome is handed to the writer: the slot is free. Nothing changes
   * for an attempt taken from its slot (its place was given back when it was taken).
   */
  void handedOver() {
    if (state.compareAndSet(State.SETTLING, State.SETTLED)) {
      hooks.submitted(this);
    }
  }

  /**
   * STARTED → ABANDONED, by the timer at the hard time limit: it records the outcome, and the
   * handler's thread is abandoned and replaced.
   *
   * @return true if this call took the attempt; false if its outcome was claimed already
   */
  boolean abandon() {
    if (!state.compareAndSet(State.STARTED, State.ABANDONED)) {
      return false;
    }
    hooks.submitted(this);
    return true;
  }

  /** ABANDONED → HELD, by the timer: the retry waits until the stuck thread has ended. */
  void hold(HeldRetry retry) {
    this.heldRetry = retry;
    state.compareAndSet(State.ABANDONED, State.HELD);
  }

  /**
   * HELD → ABANDONED, by the timer once the stuck thread has ended: the retry is sent now.
   *
   * @return true for exactly one caller
   */
  boolean releaseHeld() {
    return state.compareAndSet(State.HELD, State.ABANDONED);
  }

  /**
   * RECEIVED or STARTED → HANDED_BACK, by the shutdown: the message goes back to its queue
   * unfinished. From STARTED, the handler's thread is abandoned.
   *
   * @return false if its outcome was claimed already
   */
  boolean handBack() {
    if (state.compareAndSet(State.RECEIVED, State.HANDED_BACK)
        || state.compareAndSet(State.STARTED, State.HANDED_BACK)) {
      hooks.submitted(this);
      return true;
    }
    return false;
  }

  /**
   * RECEIVED → DROPPED, by the timer once its lease was lost while it waited for a slot: another
   * worker has the message now.
   */
  void drop() {
    if (state.compareAndSet(State.RECEIVED, State.DROPPED)) {
      endWithoutOutcome();
    }
  }

  /**
   * Called by the slot thread once the handler's code is over: an attempt it holds that handed no
   * outcome to the writer (recording it failed, or the worker was halted) is DROPPED.
   *
   * @return false if the attempt was taken from this thread (ABANDONED, HELD, HANDED_BACK): the
   *     thread leaves the slots
   */
  boolean leaveSlot() {
    while (true) {
      State s = state.get();
      switch (s) {
        case SETTLED, DROPPED:
          return true;
        case ABANDONED, HELD, HANDED_BACK:
          return false;
        default: // RECEIVED, STARTED, SETTLING: nothing was handed to the writer
          if (state.compareAndSet(s, State.DROPPED)) {
            endWithoutOutcome();
            return true;
          }
      }
    }
  }

  private void endWithoutOutcome() {
    hooks.submitted(this);
    hooks.written(this);
  }

  /** The writer is done with the outcome: runs the {@link Hooks#written} bookkeeping. */
  void written() {
    hooks.written(this);
  }

  // ---- what the state implies ----

  /** Whether its outcome is claimed, or it has ended: the timer and revocations leave it alone. */
  boolean isSettled() {
    State s = state.get();
    return s != State.RECEIVED && s != State.STARTED;
  }

  /** Whether a slot thread runs its handler and nobody has claimed its outcome yet. */
  boolean isRunning() {
    return state.get() == State.STARTED;
  }

  /** Whether its retry waits (or waited) for its stuck thread: then the lease is kept. */
  boolean hasHeldRetry() {
    return heldRetry() != null;
  }

  /**
   * The retry held for its stuck thread; kept once sent, until the writer is done with it. Null if
   * there is none.
   */
  HeldRetry heldRetry() {
    State s = state.get();
    return s == State.HELD || s == State.ABANDONED ? heldRetry : null;
  }

  /** Whether this worker still holds the delivery (acks late, not acked yet). */
  boolean holdsDelivery() {
    return acksLate && !acked;
  }

  /** Its delivery was acked before the handler ran. */
  void acked() {
    acked = true;
  }

  // ---- cancellation ----

  /** Flags {@code why} and interrupts the handler if it still runs. */
  void cancel(Cancellation why) {
    cancellations.accumulateAndGet(1 << why.ordinal(), (a, b) -> a | b);
    if (state.get() == State.STARTED) {
      thread.interrupt();
    }
  }

  /** Whether it was cancelled for {@code why}. */
  boolean cancelled(Cancellation why) {
    return (cancellations.get() & (1 << why.ordinal())) != 0;
  }

  /** Whether the handler should stop, for any reason. */
  boolean isCancelled() {
    return cancellations.get() != 0;
  }

  // ---- what the slot thread recorded when it started ----

  /** When the handler started, or null before. */
  public Instant startedAt() {
    return state.get() == State.RECEIVED ? null : startedAt;
  }

  /** The thread running (or that ran) the handler, or null before it starts. */
  Thread thread() {
    return state.get() == State.RECEIVED ? null : thread;
  }

  /** The context, or null before the handler starts. */
  DefaultTaskContext context() {
    return state.get() == State.RECEIVED ? null : context;
  }

  /** The soft deadline, or null (none, or not started). */
  Instant softDeadline() {
    return state.get() == State.RECEIVED ? null : softDeadline;
  }

  /** The hard deadline, or null (none, or not started). */
  Instant hardDeadline() {
    return state.get() == State.RECEIVED ? null : hardDeadline;
  }

  /** How long since the handler started. */
  Duration runtime() {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  @Override
  public String toString() {
    return "Attempt{" + name() + " [" + id() + "], " + state.get() + "}";
  }
}
