package dev.errand.memory;

import dev.errand.spi.FlowLimit;
import dev.errand.spi.LimitStats;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The flow-control keys of one queue ({@link LimitKey}): the messages each holds back, and which
 * keys may release one now. A claim takes from the keys that are due, soonest first, each as far as
 * its rate and concurrency allow, so a waiting message costs nothing until its key is due. Idle
 * keys are forgotten once their rate has recovered. Not thread-safe: guarded by the broker's lock.
 */
final class QueueLimits {

  private final Map<String, LimitKey> keys = new HashMap<>();
  private final NavigableSet<LimitKey> due = new TreeSet<>(LimitKey.BY_DUE);
  private final NavigableSet<LimitKey> idle = new TreeSet<>(LimitKey.BY_TAT);
  private long held;

  /** Holds {@code m} back under its limit until its key may release it. */
  void hold(StoredMessage m, double now) {
    FlowLimit limit = m.limit;
    LimitKey k = keys.get(limit.key());
    if (k == null) {
      k = new LimitKey(limit.key(), limit);
      keys.put(limit.key(), k);
    }
    detach(k);
    k.limit = limit; // the latest stated applies
    k.held.add(m);
    held++;
    attach(k, now);
  }

  /**
   * Releases up to {@code max} held messages whose keys allow a start at {@code now}, passing each
   * to {@code lease}; returns how many.
   */
  int take(double now, int max, Consumer<StoredMessage> lease) {
    int taken = 0;
    while (taken < max && !due.isEmpty() && due.first().dueAt <= now) {
      LimitKey k = due.pollFirst();
      while (taken < max && !k.held.isEmpty() && k.hasRoom() && k.allowedAt() <= now) {
        StoredMessage m = k.held.pollFirst();
        held--;
        k.consume(now);
        k.running++;
        m.holdsSlot = true;
        lease.accept(m);
        taken++;
      }
      attach(k, now);
    }
    return taken;
  }

  /**
   * A message of a key that held a place in its concurrency no longer does (acked, retried or
   * handed back); {@code refund} gives its start back to the rate (handed back before it ran).
   */
  void free(StoredMessage m, double now, boolean refund) {
    if (!m.holdsSlot) {
      return;
    }
    m.holdsSlot = false;
    LimitKey k = keys.get(m.limit.key());
    if (k == null) {
      return;
    }
    detach(k);
    k.running = Math.max(0, k.running - 1);
    if (refund) {
      k.refund(now);
    }
    attach(k, now);
  }

  /** When the soonest key may release a message (ms), or null if none waits with room. */
  Double nextDueAt() {
    return due.isEmpty() ? null : due.first().dueAt;
  }

  /** Forgets the idle keys whose rate has recovered by {@code now}. */
  void forgetIdle(double now) {
    while (!idle.isEmpty() && idle.first().tat <= now) {
      keys.remove(idle.pollFirst().key);
    }
  }

  /** Messages held back. */
  long heldCount() {
    return held;
  }

  /** Whether no key is remembered. */
  boolean isEmpty() {
    return keys.isEmpty();
  }

  /** Deletes every held message, passing each to {@code removed}; returns how many. */
  long purge(double now, Consumer<StoredMessage> removed) {
    long n = 0;
    for (LimitKey k : new ArrayList<>(keys.values())) {
      if (k.held.isEmpty()) {
        continue;
      }
      detach(k);
      n += k.held.size();
      k.held.forEach(removed);
      k.held.clear();
      attach(k, now);
    }
    held -= n;
    return n;
  }

  /** The keys in use, busiest first, at most {@code max}. */
  List<LimitStats> stats(int max) {
    List<LimitKey> all = new ArrayList<>(keys.values());
    all.sort(
        Comparator.comparingLong((LimitKey k) -> -(k.running + (long) k.held.size()))
            .thenComparing(k -> k.key));
    List<LimitStats> out = new ArrayList<>(Math.min(max, all.size()));
    for (LimitKey k : all.subList(0, Math.min(max, all.size()))) {
      out.add(
          new LimitStats(
              k.limit,
              k.running,
              k.held.size(),
              k.limit.hasRate() ? Instant.ofEpochMilli((long) Math.ceil(k.allowedAt())) : null));
    }
    return out;
  }

  private void detach(LimitKey k) {
    due.remove(k);
    idle.remove(k);
  }

  /** Files {@code k} where it belongs now: due, waiting for room, idle, or forgotten. */
  private void attach(LimitKey k, double now) {
    if (!k.held.isEmpty()) {
      if (k.hasRoom()) {
        k.dueAt = k.allowedAt();
        due.add(k);
      }
      // else: an ack, retry or hand-back of one of its messages makes room and files it again
    } else if (k.running == 0) {
      if (k.tat <= now) {
        keys.remove(k.key);
      } else {
        idle.add(k);
      }
    }
  }
}
