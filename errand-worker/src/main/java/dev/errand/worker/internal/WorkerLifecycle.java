package dev.errand.worker.internal;

import dev.errand.worker.WorkerOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops a worker's parts, in order: NEW → RUNNING → STOPPING → STOPPED.
 *
 * <ul>
 *   <li>{@link #start()}: the {@link Slots}, then the {@link Fetcher}, then the {@link Duties}
 *       (whose first heartbeat must find the fetcher running);
 *   <li>{@link #shutdown(Duration)}, graceful: no more fetching, prefetched messages handed back at
 *       once, running tasks given the timeout to finish, then interrupted and, after a second's
 *       grace, handed back; the writer flushed, the duties stopped, the worker deregistered;
 *   <li>{@link #halt()}: every thread stopped at once with nothing written, as if the process had
 *       been killed (for tests).
 * </ul>
 *
 * <p>Thread-safe: {@link #start()} and the beginning of a shutdown are serialized on this object; a
 * second shutdown waits for the first to end. The parts read {@link #isRunning()} and {@link
 * #isHalted()} to decide whether to go on.
 */
final class WorkerLifecycle {

  private static final Logger log = LoggerFactory.getLogger(WorkerLifecycle.class);

  /** How long running tasks interrupted by a shutdown get to end before they are handed back. */
  static final Duration INTERRUPT_GRACE = Duration.ofSeconds(1);

  private enum State {
    NEW,
    RUNNING,
    STOPPING,
    STOPPED
  }

  private final String name;
  private final WorkerOptions options;
  private final Clock clock;
  private final Attempts attempts;
  private final Capacity capacity;
  private final TaskRunner runner;
  private final OutcomeWriter writer;
  private final Slots slots;
  private final Fetcher fetcher;
  private final Duties duties;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile State state = State.NEW;
  private volatile boolean halted;
  private volatile Instant startedAt;

  WorkerLifecycle(
      String name,
      WorkerOptions options,
      Clock clock,
      Attempts attempts,
      Capacity capacity,
      TaskRunner runner,
      OutcomeWriter writer,
      Slots slots,
      Fetcher fetcher,
      Duties duties) {
    this.name = name;
    this.options = options;
    this.clock = clock;
    this.attempts = attempts;
    this.capacity = capacity;
    this.runner = runner;
    this.writer = writer;
    this.slots = slots;
    this.fetcher = fetcher;
    this.duties = duties;
  }

  /**
   * Starts the threads.
   *
   * @throws IllegalStateException if it was started before
   */
  synchronized void start() {
    if (state != State.NEW) {
      throw new IllegalStateException("worker " + name + " was already started");
    }
    state = State.RUNNING;
    Instant now = clock.instant();
    startedAt = now;
    slots.start();
    fetcher.start();
    duties.start(now);
    log.info(
        "worker {} consuming {} ({}) with concurrency {} ({} pool, prefetch {}, lease {})",
        name,
        options.queues(),
        options.queueOrder().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
        options.autoscaling()
            ? options.minConcurrency() + ".." + options.concurrency()
            : String.valueOf(options.concurrency()),
        options.pool().label(),
        options.prefetch(),
        options.leaseDuration());
  }

  /**
   * Stops gracefully: no more fetching, prefetched messages handed back at once, running tasks
   * given {@code timeout} to finish, then interrupted and handed back.
   *
   * @return true if every running task finished within the timeout
   */
  boolean shutdown(Duration timeout) throws InterruptedException {
    synchronized (this) {
      if (state == State.NEW) {
        state = State.STOPPED;
        terminated.countDown();
        return true;
      }
      if (state != State.RUNNING) {
        terminated.await();
        return true;
      }
      state = State.STOPPING;
    }
    log.info("worker {} shutting down", name);
    fetcher.stop(options.pollInterval().plusSeconds(5).toMillis());
    handBackPrefetched();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (attempts.busy() && System.nanoTime() < deadline) {
      capacity.await(Math.min(50, (deadline - System.nanoTime()) / 1_000_000));
      handBackPrefetched(); // a slot may have put one back while stopping
    }
    boolean clean = !attempts.busy();
    if (!clean) {
      interruptAndHandBack(timeout);
    }
    handBackPrefetched();
    int parked = attempts.withHeldRetries().size();
    if (parked > 0) {
      log.warn(
          "{} retries wait for threads stuck past their hard time limit; they are sent by whoever"
              + " outlives this process (errand worker's supervisor), or come back when their"
              + " leases run out",
          parked);
    }
    writer.close();
    duties.stop();
    state = State.STOPPED;
    terminated.countDown();
    log.info("worker {} stopped ({} tasks processed)", name, attempts.processed());
    return clean;
  }

  /** Past the timeout: interrupts what still runs, and hands back what does not end in a second. */
  private void interruptAndHandBack(Duration timeout) throws InterruptedException {
    log.warn(
        "{} tasks still running after {}; interrupting them", attempts.runningCount(), timeout);
    for (Attempt a : attempts.running()) {
      a.cancel(Attempt.Cancellation.SHUTDOWN);
    }
    long grace = System.nanoTime() + INTERRUPT_GRACE.toNanos();
    while (attempts.busy() && System.nanoTime() < grace) {
      capacity.await(50);
    }
    for (Attempt a : List.copyOf(attempts.running())) {
      try {
        runner.handBack(a);
      } catch (RuntimeException e) {
        log.error("could not hand back task [{}]; it returns after its lease", a.id(), e);
      }
    }
  }

  /**
   * Hands back prefetched messages through the writer: their RECEIVED states, submitted earlier,
   * are stored before the message can go to another worker, whose outcome they must not overwrite.
   */
  private void handBackPrefetched() {
    List<Attempt> back = attempts.drainPrefetched();
    for (Attempt a : back) {
      runner.release(a);
    }
    if (!back.isEmpty()) {
      log.info("handing back {} prefetched messages", back.size());
    }
  }

  /**
   * Stops every thread at once without acking, releasing or recording anything, as if the process
   * had been killed: held messages come back when their leases expire. For tests.
   */
  void halt() {
    halted = true;
    writer.halt();
    runner.halt();
    duties.halt();
    fetcher.interrupt();
    slots.interruptAll();
    state = State.STOPPED;
    terminated.countDown();
  }

  /** Waits until the worker has stopped. */
  boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Whether it is running (started and not stopping). */
  boolean isRunning() {
    return state == State.RUNNING;
  }

  /** Whether it was halted. */
  boolean isHalted() {
    return halted;
  }

  /** When it started, or null before. */
  Instant startedAt() {
    return startedAt;
  }

  /** Why it is not running ("not running (stopping)"), or null while it runs. */
  String notRunning() {
    if (halted || state != State.RUNNING) {
      return "not running (" + (halted ? "halted" : state.name().toLowerCase()) + ")";
    }
    return null;
  }
}
