package dev.errand.bench.peers;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the job handlers of both products call: they run in this JVM, so {@link System#nanoTime()}
 * taken in a handler and in the harness are on one clock. The harness installs a {@link Drain} or
 * {@link Probes} before a step and removes it after.
 */
final class Recorder {

  private static volatile Drain drain;
  private static volatile Probes probes;

  private Recorder() {}

  /** The no-op job's body. */
  static void noop() {
    long now = System.nanoTime();
    Drain d = drain;
    if (d != null) {
      d.hit(now);
    }
  }

  /** The latency probe's body; {@code seq} < 0 is an unrecorded warm-up probe. */
  static void probe(int seq) {
    long now = System.nanoTime();
    Probes p = probes;
    if (p != null) {
      p.hit(seq, now);
    }
  }

  static void install(Drain d) {
    drain = d;
  }

  static void install(Probes p) {
    probes = p;
  }

  static void clear() {
    drain = null;
    probes = null;
  }

  /** Counts the runs of {@code expected} no-op jobs and keeps the first and last. */
  static final class Drain {
    final int expected;
    final AtomicInteger runs = new AtomicInteger();
    final AtomicLong first = new AtomicLong(Long.MAX_VALUE);
    final AtomicLong last = new AtomicLong(Long.MIN_VALUE);
    private final CountDownLatch done;

    Drain(int expected) {
      this.expected = expected;
      this.done = new CountDownLatch(expected);
    }

    void hit(long now) {
      first.accumulateAndGet(now, Math::min);
      last.accumulateAndGet(now, Math::max);
      runs.incrementAndGet();
      done.countDown();
    }

    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
      return done.await(timeout, unit);
    }

    long remaining() {
      return done.getCount();
    }
  }

  /**
   * The probes of one latency step: for each recorded one, the time before the enqueue call, after
   * it returned, and when the handler started.
   */
  static final class Probes {
    final long[] callStart;
    final long[] callEnd;
    final long[] started;
    final AtomicInteger warmupRuns = new AtomicInteger();
    final AtomicInteger duplicates = new AtomicInteger();
    private final CountDownLatch done;

    Probes(int n) {
      callStart = new long[n];
      callEnd = new long[n];
      started = new long[n];
      java.util.Arrays.fill(started, -1);
      done = new CountDownLatch(n);
    }

    void hit(int seq, long now) {
      if (seq < 0) {
        warmupRuns.incrementAndGet();
        return;
      }
      if (seq >= started.length) {
        return;
      }
      synchronized (this) {
        if (started[seq] >= 0) {
          duplicates.incrementAndGet();
          return;
        }
        started[seq] = now;
      }
      done.countDown();
    }

    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
      return done.await(timeout, unit);
    }

    long remaining() {
      return done.getCount();
    }

    /** The handler-start times as read under the lock the handlers write them under. */
    synchronized long[] startedSnapshot() {
      return started.clone();
    }
  }
}
