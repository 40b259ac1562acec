package dev.errand.worker.internal;

import dev.errand.worker.WorkerOptions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads that run attempts, {@link WorkerOptions#concurrency()} of them (platform or virtual,
 * per {@link WorkerOptions#pool()}), each taking the next prefetched attempt. A thread stuck past
 * its task's hard time limit is abandoned and replaced, so the concurrency stays whole.
 * Thread-safe.
 */
final class Slots {

  private static final Logger log = LoggerFactory.getLogger(Slots.class);

  private final WorkerOptions options;
  private final TaskRunner runner;
  private final BlockingDeque<Execution> prefetched;
  private final Map<String, Execution> running;
  private final BooleanSupplier accepting;
  private final BooleanSupplier halted;
  private final ThreadFactory factory;
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final Set<Thread> abandoned = ConcurrentHashMap.newKeySet();

  /**
   * @param running where an attempt is registered while it runs (until its outcome is written)
   * @param accepting whether the worker still runs (not stopping): a slot takes no new attempt once
   *     it is not, and puts back the one it just took
   * @param halted whether the worker was halted (a simulated crash)
   */
  Slots(
      WorkerOptions options,
      TaskRunner runner,
      BlockingDeque<Execution> prefetched,
      Map<String, Execution> running,
      BooleanSupplier accepting,
      BooleanSupplier halted) {
    this.options = options;
    this.runner = runner;
    this.prefetched = prefetched;
    this.running = running;
    this.accepting = accepting;
    this.halted = halted;
    this.factory = Threads.factory(options.pool(), "errand-task");
  }

  /** Starts the worker's concurrency of slot threads. */
  void start() {
    for (int i = 0; i < options.concurrency(); i++) {
      startOne();
    }
  }

  private void startOne() {
    Thread t = factory.newThread(this::loop);
    threads.add(t);
    t.start();
  }

  private void loop() {
    while (!halted.getAsBoolean()) {
      if (!accepting.getAsBoolean()) {
        break;
      }
      Execution e;
      try {
        e = prefetched.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        continue;
      }
      if (e == null) {
        continue;
      }
      if (!accepting.getAsBoolean() || halted.getAsBoolean()) {
        prefetched.addFirst(e); // shutdown hands it back
        break;
      }
      running.put(e.id(), e);
      try {
        runner.run(e);
      } catch (RuntimeException | Error unexpected) {
        log.error("unexpected failure running task [{}]", e.id(), unexpected);
      } finally {
        e.close();
      }
      if (e.settledByTimer()) {
        return; // this thread was abandoned and replaced; the timer did the bookkeeping
      }
      if (!e.isSubmitted()) {
        // No outcome could be recorded: the message stays leased (no longer renewed) and comes
        // back when its lease runs out.
        e.abandonWithoutOutcome();
      }
    }
    threads.remove(Thread.currentThread());
  }

  /**
   * The timer settled {@code e} at its hard limit: its thread is abandoned and, while the worker
   * still runs, replaced.
   */
  void abandon(Execution e) {
    threads.remove(e.thread());
    abandoned.add(e.thread());
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
