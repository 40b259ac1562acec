package dev.errand.worker.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a worker holds against its bound of {@code concurrency + prefetch}: attempts in flight
 * (prefetched or running, outcome not yet handed to the writer) and outcomes handed over but not
 * yet written (their leases are still renewed). The fetcher waits here for room; slots and the
 * writer make room and wake it. Thread-safe.
 */
final class Capacity {

  private volatile int max;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger pendingWrites = new AtomicInteger();
  private final AtomicLong taken = new AtomicLong();
  private final Object monitor = new Object();

  /**
   * @param max the most attempts in flight at once: the concurrency plus the prefetch
   */
  Capacity(int max) {
    this.max = max;
  }

  /** The bound: concurrency plus prefetch. */
  int max() {
    return max;
  }

  /** A new bound, as an autoscaling worker's threads come and go; wakes the fetcher. */
  void setMax(int max) {
    this.max = max;
    signal();
  }

  /** How many more attempts may be taken now (may be zero or negative). */
  int free() {
    return max - inFlight.get();
  }

  /** Attempts in flight: prefetched or running, their outcome not yet handed to the writer. */
  int inFlight() {
    return inFlight.get();
  }

  /** Messages taken since the start, whatever became of them. */
  long takenTotal() {
    return taken.get();
  }

  /**
   * Whether so many outcomes wait for the writer that no more should be taken: they still hold
   * leases, and a slow store must not let a worker lease without bound.
   */
  boolean writesBehind() {
    return pendingWrites.get() >= max * 4;
  }

  /** {@code n} messages were claimed. */
  void took(int n) {
    inFlight.addAndGet(n);
    taken.addAndGet(n);
  }

  /** {@code n} of the messages claimed never became attempts (poison, handed back at once). */
  void dropped(int n) {
    if (n != 0) {
      inFlight.addAndGet(-n);
      signal();
    }
  }

  /** An attempt's outcome went to the writer: its slot (or prefetch place) is free. */
  void submitted() {
    inFlight.decrementAndGet();
    pendingWrites.incrementAndGet();
    signal();
  }

  /** The writer is done with an outcome. */
  void written() {
    pendingWrites.decrementAndGet();
    signal();
  }

  /** Waits until room may have been made, or {@code millis} pass (at least 1 ms). */
  void await(long millis) throws InterruptedException {
    synchronized (monitor) {
      monitor.wait(Math.max(1, millis));
    }
  }

  /** Wakes whoever waits for room or for running attempts to end. */
  void signal() {
    synchronized (monitor) {
      monitor.notifyAll();
    }
  }
}
