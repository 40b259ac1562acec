package dev.errand.worker.internal;

import dev.errand.worker.WorkerOptions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads that run attempts, {@link WorkerOptions#concurrency()} of them (platform or virtual,
 * per {@link WorkerOptions#pool()}), each taking the next prefetched attempt. When autoscaling,
 * from {@link WorkerOptions#minConcurrency()} threads: one is added for each prefetched attempt no
 * idle thread will take, up to the maximum, and a thread above the minimum ends after {@link
 * WorkerOptions#scaleDownAfter()} without work; the worker's capacity follows. A thread stuck past
 * its task's hard time limit is abandoned and replaced, so the concurrency stays whole.
 * Thread-safe.
 */
final class Slots {

  private static final Logger log = LoggerFactory.getLogger(Slots.class);

  private final WorkerOptions options;
  private final TaskRunner runner;
  private final Attempts attempts;
  private final BooleanSupplier accepting;
  private final BooleanSupplier halted;
  private final ThreadFactory factory;
  private final Capacity capacity;
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final AtomicInteger size =
      new AtomicInteger(); // slot threads, abandoned ones not counted
  private final AtomicInteger busy = new AtomicInteger(); // slot threads running an attempt
  private final Set<Thread> abandoned = ConcurrentHashMap.newKeySet();

  /**
   * @param attempts where the slots take prefetched attempts from, and register them as running
   * @param accepting whether the worker still runs (not stopping): a slot takes no new attempt once
   *     it is not, and puts back the one it just took
   * @param halted whether the worker was halted (a simulated crash)
   */
  Slots(
      WorkerOptions options,
      TaskRunner runner,
      Attempts attempts,
      Capacity capacity,
      BooleanSupplier accepting,
      BooleanSupplier halted) {
    this.options = options;
    this.capacity = capacity;
    this.runner = runner;
    this.attempts = attempts;
    this.accepting = accepting;
    this.halted = halted;
    this.factory = Threads.factory(options.pool(), "errand-task");
  }

  /** Starts the worker's concurrency of slot threads (its minimum, when autoscaling). */
  void start() {
    for (int i = 0; i < options.minConcurrency(); i++) {
      size.incrementAndGet();
      startOne();
    }
  }

  /**
   * When autoscaling: adds slot threads, up to the maximum, for the prefetched attempts that no
   * idle thread will take. Called by the fetch thread after each claim.
   */
  void grow() {
    if (!options.autoscaling() || !accepting.getAsBoolean()) {
      return;
    }
    int waiting = attempts.prefetchedCount() - (size.get() - busy.get());
    while (waiting-- > 0) {
      int n = size.get();
      if (n >= options.concurrency()) {
        return;
      }
      if (size.compareAndSet(n, n + 1)) {
        startOne();
        capacity.setMax(n + 1 + options.prefetch());
        log.debug("autoscale: {} task threads", n + 1);
      }
    }
  }

  /** Slot threads now (abandoned ones not counted). */
  int size() {
    return size.get();
  }

  /** Ends the calling slot thread if it is above the autoscaling minimum; true if it must end. */
  private boolean shrink() {
    int n = size.get();
    if (n <= options.minConcurrency() || !size.compareAndSet(n, n - 1)) {
      return false;
    }
    capacity.setMax(n - 1 + options.prefetch());
    log.debug("autoscale: {} task threads", n - 1);
    return true;
  }

  private void startOne() {
    Thread t = factory.newThread(this::loop);
    threads.add(t);
    t.start();
  }

  private void loop() {
    long idleNanos = options.scaleDownAfter().toNanos();
    long idleSince = System.nanoTime();
    while (!halted.getAsBoolean()) {
      if (!accepting.getAsBoolean()) {
        break;
      }
      Attempt a;
      try {
        a = attempts.next(100);
      } catch (InterruptedException ie) {
        continue;
      }
      if (a == null) {
        if (options.autoscaling() && System.nanoTime() - idleSince > idleNanos && shrink()) {
          break;
        }
        continue;
      }
      if (!accepting.getAsBoolean() || halted.getAsBoolean()) {
        attempts.putBack(a); // shutdown hands it back
        break;
      }
      attempts.run(a);
      busy.incrementAndGet();
      try {
        runner.run(a);
      } catch (RuntimeException | Error unexpected) {
        log.error("unexpected failure running task [{}]", a.id(), unexpected);
      } finally {
        busy.decrementAndGet();
        idleSince = System.nanoTime();
      }
      // An attempt that recorded no outcome is dropped: the message stays leased (no longer
      // renewed) and comes back when its lease runs out.
      if (!a.leaveSlot()) {
        return; // taken from this thread, which was abandoned and replaced
      }
    }
    threads.remove(Thread.currentThread());
  }

  /**
   * The timer took {@code a} at its hard limit: its thread is abandoned and, while the worker still
   * runs, replaced.
   */
  void abandon(Attempt a) {
    threads.remove(a.thread());
    abandoned.add(a.thread());
    if (accepting.getAsBoolean()) {
      startOne(); // keep the full concurrency
    }
  }

  /** Threads abandoned at their hard time limit that still run. */
  int stuck() {
    abandoned.removeIf(t -> !t.isAlive());
    return abandoned.size();
  }

  /** Interrupts every slot thread (a halt). */
  void interruptAll() {
    for (Thread t : threads) {
      t.interrupt();
    }
  }
}
