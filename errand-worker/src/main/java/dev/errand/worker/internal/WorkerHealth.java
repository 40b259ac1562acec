package dev.errand.worker.internal;

import dev.errand.worker.WorkerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether a running worker consumes, from what its threads record as they turn: the fetch loop, its
 * claims, the timer, and the outcome writer's stall. A worker alive but stalled for any of these
 * reasons reports itself as not consuming, with the reason, in its heartbeats. Thread-safe.
 */
final class WorkerHealth {

  private final WorkerOptions options;
  private final OutcomeWriter writer;
  private volatile long lastFetchLoopNanos = System.nanoTime();
  private volatile long lastTickNanos = System.nanoTime();
  private volatile int claimFailures;
  private volatile String lastClaimError;

  WorkerHealth(WorkerOptions options, OutcomeWriter writer) {
    this.options = options;
    this.writer = writer;
  }

  /** The fetch loop began a turn. */
  void fetchLoopTurned() {
    lastFetchLoopNanos = System.nanoTime();
  }

  /** The timer ticked. */
  void ticked() {
    lastTickNanos = System.nanoTime();
  }

  /** A claim went through. */
  void claimed() {
    claimFailures = 0;
  }

  /** A claim failed; returns how many in a row. */
  int claimFailed(RuntimeException e) {
    lastClaimError = e.toString();
    return ++claimFailures;
  }

  /**
   * What keeps a running worker from consuming, or null if nothing does: its fetch thread died, its
   * claims fail, its fetch loop or timer is stuck, or its outcome writes have failed or been
   * blocked for longer than the stall timeout.
   */
  String problem(boolean fetcherAlive) {
    List<String> problems = new ArrayList<>(2);
    if (!fetcherAlive) {
      problems.add("its fetch thread has died");
    }
    int failures = claimFailures;
    if (failures > 0) {
      problems.add("claims fail (" + failures + " in a row): " + lastClaimError);
    }
    long now = System.nanoTime();
    Duration bound = options.stallTimeout();
    // A fetch loop waits up to the poll interval per claim: give it three before calling it stuck.
    Duration fetchBound = max(bound, options.pollInterval().multipliedBy(3));
    if (now - lastFetchLoopNanos > fetchBound.toNanos()) {
      problems.add("its fetch loop has been stuck for " + seconds(now - lastFetchLoopNanos));
    }
    if (now - lastTickNanos > bound.toNanos()) {
      problems.add(
          "its timer (time limits, lease renewal, revocations) has been stuck for "
              + seconds(now - lastTickNanos));
    }
    OutcomeWriter.Stall stall = writer.stall();
    if (stall != null && stall.duration().compareTo(bound) > 0) {
      problems.add(
          "task outcomes could not be written for "
              + seconds(now - stall.sinceNanos())
              + (stall.lastError() == null ? " (a write is blocked)" : ": " + stall.lastError()));
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
  }
}
