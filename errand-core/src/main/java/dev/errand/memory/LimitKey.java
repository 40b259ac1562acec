package dev.errand.memory;

import dev.errand.spi.FlowLimit;
import java.util.Comparator;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The state of one flow-control key of one queue: its limit as last stated, the messages it holds
 * back (by priority, then enqueue order), how many of its messages are leased, and its rate as a
 * "theoretical arrival time" (GCRA): the next start is allowed once {@code now >= tat - tolerance},
 * where the tolerance lets {@code burst} start at once after a quiet spell. Mutable, guarded by the
 * broker's lock; {@link #tat} and {@link #dueAt} change only while the key is out of the sorted
 * sets that order by them.
 */
final class LimitKey {

  /** Order of the keys waiting to release a message: soonest first. */
  static final Comparator<LimitKey> BY_DUE =
      Comparator.comparingDouble((LimitKey k) -> k.dueAt).thenComparing(k -> k.key);

  /** Order of idle keys waiting to be forgotten: the rate recovered soonest first. */
  static final Comparator<LimitKey> BY_TAT =
      Comparator.comparingDouble((LimitKey k) -> k.tat).thenComparing(k -> k.key);

  /** Held messages: highest priority first, then enqueue order. */
  private static final Comparator<StoredMessage> HELD_ORDER =
      Comparator.comparingInt((StoredMessage m) -> -m.priority).thenComparingLong(m -> m.seq);

  final String key;
  FlowLimit limit;
  double tat; // ms since the epoch; at or before now means the full burst is available
  double dueAt; // when it may next release a message, while in the due set
  int running; // leased messages of the key (including those whose lease ran out)
  final NavigableSet<StoredMessage> held = new TreeSet<>(HELD_ORDER);

  LimitKey(String key, FlowLimit limit) {
    this.key = key;
    this.limit = limit;
  }

  /** Whether the concurrency limit leaves room for one more. */
  boolean hasRoom() {
    return limit.concurrency() == 0 || running < limit.concurrency();
  }

  /** When the rate next allows a start (ms), given the start allowed at {@code tat}. */
  double allowedAt() {
    if (!limit.hasRate()) {
      return Double.NEGATIVE_INFINITY;
    }
    return tat - limit.intervalMillis() * (limit.burst() - 1);
  }

  /** Takes one start from the rate at {@code now} (ms). */
  void consume(double now) {
    if (limit.hasRate()) {
      tat = nextTat(tat, now, limit.intervalMillis());
    }
  }

  /**
   * The rate's arrival time after a start at {@code now}. A start that comes late by at most {@link
   * #LATENESS_CREDIT_MS} keeps the schedule: a claim always comes a moment after its key is due,
   * and restarting the schedule from each late start would lose that moment every time (100/s would
   * give 85/s); the starts it fell behind may then follow at once. A start after a longer pause
   * restarts the schedule.
   */
  static double nextTat(double tat, double now, double interval) {
    return (tat >= now - LATENESS_CREDIT_MS ? tat : now) + interval;
  }

  /** The most a late start may take from the next one's wait: {@value} ms. */
  static final double LATENESS_CREDIT_MS = 50;

  /** Gives back a start taken but not used (a message handed back before it ran). */
  void refund(double now) {
    if (limit.hasRate()) {
      tat = Math.max(now, tat - limit.intervalMillis());
    }
  }

  /** Nothing held, nothing leased: only the rate's memory remains. */
  boolean idle() {
    return held.isEmpty() && running == 0;
  }
}
