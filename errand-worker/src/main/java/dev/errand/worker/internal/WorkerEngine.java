package dev.errand.worker.internal;

import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.worker.WorkerListener;
import dev.errand.worker.WorkerOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The worker's moving parts, put together: a {@link Fetcher} that leases messages up to the free
 * {@link Capacity} and queues them as {@link Attempt}s, {@link Slots} whose threads run them, the
 * {@link Duties} that enforce time limits, renew leases, check revocations and send heartbeats, and
 * the {@link WorkerLifecycle} that starts and stops them in order. {@link Attempts} holds what the
 * worker holds. All time decisions use the injected clock. Thread-safe.
 */
public final class WorkerEngine {

  private final TaskRunner runner;
  private final Clock clock;
  private final WorkerInfoSource info;
  private final WorkerHealth stalls;
  private final Attempts attempts;
  private final Slots slots;
  private final Fetcher fetcher;
  private final WorkerLifecycle lifecycle;

  public WorkerEngine(
      Backend backend,
      TaskRunner runner,
      WorkerOptions options,
      String name,
      Clock clock,
      WorkerListener listener,
      EventSink events,
      OutcomeWriter writer,
      BackendHealth health) {
    this.runner = runner;
    this.clock = clock;
    this.stalls = new WorkerHealth(options, writer);
    Capacity capacity = new Capacity(options.minConcurrency() + options.prefetch());
    this.attempts = new Attempts(capacity);
    this.slots = new Slots(options, runner, attempts, capacity, this::isRunning, this::isHalted);
    this.info = new WorkerInfoSource(name, options, slots::size);
    this.fetcher =
        new Fetcher(
            backend,
            runner,
            options,
            capacity,
            attempts,
            stalls,
            health,
            listener,
            this::isRunning,
            this::isHalted,
            slots::grow);
    Duties duties =
        new Duties(
            backend,
            runner,
            options,
            name,
            clock,
            attempts,
            health,
            stalls,
            events,
            this::snapshot,
            this::isRunning,
            this::isHalted,
            slots::abandon);
    this.lifecycle =
        new WorkerLifecycle(
            name, options, clock, attempts, capacity, runner, writer, slots, fetcher, duties);
  }

  /**
   * Starts the threads.
   *
   * @throws IllegalStateException if it was started before
   */
  public void start() {
    lifecycle.start();
  }

  /**
   * Stops gracefully: no more fetching, prefetched messages handed back at once, running tasks
   * given {@code timeout} to finish, then interrupted and handed back.
   *
   * @return true if every running task finished within the timeout
   */
  public boolean shutdown(Duration timeout) throws InterruptedException {
    return lifecycle.shutdown(timeout);
  }

  /**
   * Stops every thread at once without acking, releasing or recording anything, as if the process
   * had been killed: held messages come back when their leases expire. For tests.
   */
  public void halt() {
    lifecycle.halt();
  }

  /** Waits until the worker has stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return lifecycle.awaitTermination(timeout);
  }

  /** Whether it is running (started and not stopping). */
  public boolean isRunning() {
    return lifecycle.isRunning();
  }

  private boolean isHalted() {
    return lifecycle.isHalted();
  }

  /**
   * Whether the worker has taken {@link WorkerOptions#maxTasks()} messages and has none left to
   * start: it fetches no more.
   */
  public boolean taskLimitReached() {
    return fetcher.taskLimitReached();
  }

  /** Threads abandoned at their hard time limit that still run. */
  public int stuckThreads() {
    return slots.stuck();
  }

  /**
   * The retries held back for threads still stuck: after a shutdown, what this process could not
   * send itself because the previous attempts may still be running in it.
   */
  public List<dev.errand.worker.HeldRetry> heldRetries() {
    List<dev.errand.worker.HeldRetry> held = new ArrayList<>();
    for (Attempt a : attempts.withHeldRetries()) {
      held.add(runner.heldRetry(a));
    }
    return held;
  }

  /** What this worker would report in a heartbeat now. */
  public WorkerInfo snapshot() {
    return info.snapshot(
        lifecycle.startedAt(),
        clock.instant(),
        attempts.runningTasks(),
        attempts.processed(),
        attempts.failed(),
        problem());
  }

  /** False when it is alive but not consuming; {@link #problem()} says why. */
  public boolean isConsuming() {
    return problem() == null;
  }

  /**
   * What keeps this worker from consuming, or null if nothing does: it is not running, its claims
   * fail, its fetch loop or timer is stuck, or its outcome writes have failed or been blocked for
   * longer than the stall timeout.
   */
  public String problem() {
    String notRunning = lifecycle.notRunning();
    return notRunning != null ? notRunning : stalls.problem(fetcher.isAlive());
  }

  /** Tasks running now. */
  public int runningCount() {
    return attempts.runningCount();
  }

  /** Messages leased but not started. */
  public int prefetchedCount() {
    return attempts.prefetchedCount();
  }
}
