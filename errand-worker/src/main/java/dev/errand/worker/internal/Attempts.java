package dev.errand.worker.internal;

import dev.errand.TaskState;
import dev.errand.WorkerInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The attempts a worker holds, and what became of them: prefetched ones wait in a queue for a slot;
 * running ones are registered from the moment a slot takes them until the writer is done with their
 * outcome, so their leases are renewed till then. It is their {@link Attempt.Hooks}: it keeps the
 * {@link Capacity} and the counts of tasks processed and failed. Thread-safe.
 */
final class Attempts implements Attempt.Hooks {

  private final Capacity capacity;
  private final LinkedBlockingDeque<Attempt> prefetched = new LinkedBlockingDeque<>();
  private final Map<String, Attempt> running = new ConcurrentHashMap<>();
  private final AtomicLong processed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  Attempts(Capacity capacity) {
    this.capacity = capacity;
  }

  /** Queues freshly received attempts for the slots. */
  void prefetch(List<Attempt> received) {
    prefetched.addAll(received);
  }

  /** The next prefetched attempt, waiting up to {@code millis} for one; null if none came. */
  Attempt next(long millis) throws InterruptedException {
    return prefetched.poll(millis, TimeUnit.MILLISECONDS);
  }

  /** Puts back an attempt a slot took but will not run (the worker is stopping). */
  void putBack(Attempt a) {
    prefetched.addFirst(a);
  }

  /** A slot takes {@code a}: it is running until the writer is done with its outcome. */
  void run(Attempt a) {
    running.put(a.id(), a);
  }

  /** Takes {@code a} out of the prefetch queue; false if a slot (or a shutdown) took it first. */
  boolean unprefetch(Attempt a) {
    return prefetched.remove(a);
  }

  /** Takes every prefetched attempt out of the queue. */
  List<Attempt> drainPrefetched() {
    List<Attempt> drained = new ArrayList<>();
    prefetched.drainTo(drained);
    return drained;
  }

  /** The running attempts, a live view. */
  Collection<Attempt> running() {
    return running.values();
  }

  /**
   * Every attempt whose lease this worker keeps: running (outcome written or not) and prefetched.
   */
  List<Attempt> held() {
    List<Attempt> held = new ArrayList<>(running.size() + prefetched.size());
    held.addAll(running.values());
    held.addAll(prefetched);
    return held;
  }

  /** Whether a running attempt is not just a retry parked behind a stuck thread. */
  boolean busy() {
    for (Attempt a : running.values()) {
      if (!a.hasHeldRetry()) {
        return true;
      }
    }
    return false;
  }

  /** The running attempts whose retry waits for a stuck thread. */
  List<Attempt> withHeldRetries() {
    List<Attempt> held = new ArrayList<>();
    for (Attempt a : running.values()) {
      if (a.hasHeldRetry()) {
        held.add(a);
      }
    }
    return held;
  }

  /** What a heartbeat reports of the running attempts: those whose handler has started. */
  List<WorkerInfo.RunningTask> runningTasks() {
    List<WorkerInfo.RunningTask> tasks = new ArrayList<>();
    for (Attempt a : running.values()) {
      if (a.startedAt() != null) {
        tasks.add(new WorkerInfo.RunningTask(a.id(), a.name(), a.startedAt()));
      }
    }
    return tasks;
  }

  int runningCount() {
    return running.size();
  }

  int prefetchedCount() {
    return prefetched.size();
  }

  /** Tasks whose outcome this worker recorded. */
  long processed() {
    return processed.get();
  }

  /** Tasks whose outcome this worker recorded as FAILURE. */
  long failed() {
    return failed.get();
  }

  @Override
  public void submitted(Attempt a) {
    capacity.submitted();
  }

  @Override
  public void written(Attempt a) {
    running.remove(a.id());
    TaskState outcome = a.outcome;
    if (outcome != null) {
      processed.incrementAndGet();
      if (outcome == TaskState.FAILURE) {
        failed.incrementAndGet();
      }
    }
    capacity.written();
  }
}
