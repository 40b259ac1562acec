package dev.errand.worker.internal;

import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import dev.errand.worker.WorkerListener;
import dev.errand.worker.WorkerOptions;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's fetch thread: claims messages up to the free {@link Capacity}, receives them
 * (decoded, checked, RECEIVED) and queues the attempts for the slots. A claim that fails is retried
 * with backoff (100 ms doubling to 5 s) and reported to the listener; it never ends the loop.
 */
final class Fetcher {

  private static final Logger log = LoggerFactory.getLogger(Fetcher.class);

  /** How long the loop waits for room for a larger batch while work is prefetched. */
  static final long BATCH_WAIT_MS = 20;

  private final Backend backend;
  private final TaskRunner runner;
  private final WorkerOptions options;
  private final Capacity capacity;
  private final Attempts attempts;
  private final WorkerHealth stalls;
  private final BackendHealth health;
  private final WorkerListener listener;
  private final BooleanSupplier running;
  private final BooleanSupplier halted;
  private final Thread thread;
  private final QueueRotation rotation;
  private final Runnable prefetched;
  private volatile boolean taskLimitReached;

  /**
   * @param running whether the worker still runs (not stopping): claimed messages are handed back
   *     once it is not
   * @param halted whether the worker was halted (a simulated crash): nothing further is taken
   * @param prefetched run after each claim's attempts are queued (autoscaling grows the slots)
   */
  Fetcher(
      Backend backend,
      TaskRunner runner,
      WorkerOptions options,
      Capacity capacity,
      Attempts attempts,
      WorkerHealth stalls,
      BackendHealth health,
      WorkerListener listener,
      BooleanSupplier running,
      BooleanSupplier halted,
      Runnable prefetched) {
    this.backend = backend;
    this.runner = runner;
    this.options = options;
    this.capacity = capacity;
    this.attempts = attempts;
    this.stalls = stalls;
    this.health = health;
    this.listener = listener;
    this.running = running;
    this.halted = halted;
    this.rotation = new QueueRotation(options);
    this.prefetched = prefetched;
    this.thread = new Thread(this::loop, "errand-fetch");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  boolean isAlive() {
    return thread.isAlive();
  }

  /** Stops the loop (with the worker's state no longer running) and waits up to {@code millis}. */
  void stop(long millis) throws InterruptedException {
    thread.interrupt();
    backend.broker().wakeup();
    thread.join(millis);
  }

  /** Interrupts the loop at once (a halt). */
  void interrupt() {
    thread.interrupt();
  }

  /** Whether the task limit has been taken and nothing of it is left in flight. */
  boolean taskLimitReached() {
    return taskLimitReached;
  }

  private void loop() {
    long backoffMs = 100;
    long batchDeadline = 0;
    while (running.getAsBoolean() && !halted.getAsBoolean()) {
      int max = capacity.max();
      stalls.fetchLoopTurned();
      int free = capacity.free();
      if (options.maxTasks() > 0) {
        // Never take more than the task limit: the process is replaced after exactly that many.
        free = (int) Math.min(free, options.maxTasks() - capacity.takenTotal());
        if (free <= 0 && capacity.inFlight() == 0) {
          taskLimitReached = true;
        }
      }
      // Outcomes waiting for their batched write still hold leases: bound them too.
      if (free <= 0 || capacity.writesBehind()) {
        await(options.pollInterval().toMillis());
        continue;
      }
      // While work is still prefetched, wait a moment for room for a sizeable batch rather than
      // claiming a message or two at a time: fewer, larger claims keep a shared store fast.
      if (free < Math.max(1, max / 2) && attempts.prefetchedCount() > 0) {
        long now = System.nanoTime();
        if (batchDeadline == 0) {
          batchDeadline = now + BATCH_WAIT_MS * 1_000_000;
        }
        if (now < batchDeadline) {
          await((batchDeadline - now) / 1_000_000);
          continue;
        }
      }
      batchDeadline = 0;
      List<Delivery> claimed;
      try {
        claimed =
            backend
                .broker()
                .claim(rotation.next(), free, options.leaseDuration(), options.pollInterval());
        stalls.claimed();
        backoffMs = 100;
        health.answered();
      } catch (InterruptedException e) {
        continue;
      } catch (RuntimeException e) {
        int failures = stalls.claimFailed(e);
        Duration backoff = Duration.ofMillis(backoffMs);
        log.warn(
            "cannot claim from the broker (attempt {}), retrying in {} ms: {}",
            failures,
            backoffMs,
            e.toString());
        Outcomes.safely(() -> listener.brokerUnavailable(e, backoff));
        sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
        continue;
      }
      rotation.served(claimed);
      if (claimed.isEmpty()) {
        continue;
      }
      if (halted.getAsBoolean()) {
        return; // a crashed worker takes nothing further: the leases will expire
      }
      capacity.took(claimed.size());
      if (!running.getAsBoolean()) {
        for (Delivery d : claimed) {
          runner.release(d);
        }
        capacity.dropped(claimed.size());
        break;
      }
      List<Attempt> ready;
      try {
        ready = runner.receive(claimed, attempts);
      } catch (RuntimeException e) {
        log.error("could not receive {} messages; they will be delivered again", claimed.size(), e);
        ready = List.of();
      }
      capacity.dropped(claimed.size() - ready.size());
      attempts.prefetch(ready);
      prefetched.run();
    }
  }

  private void await(long millis) {
    try {
      capacity.await(millis);
    } catch (InterruptedException e) {
      // the loop re-checks the state
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
