package dev.errand.memory;

import java.time.Instant;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The messages of one queue: ready ones in one sorted set per priority, delayed ones by due time,
 * leased ones by lease expiry. Every operation is O(log n); nothing scans the queue except {@link
 * #purge()}. Not thread-safe: guarded by the broker's lock.
 */
final class QueueState {

  private static final int PRIORITIES = 10;

  private final NavigableSet<StoredMessage>[] ready;
  private final NavigableSet<StoredMessage> delayed = new TreeSet<>(StoredMessage.BY_AVAILABILITY);
  private final NavigableSet<StoredMessage> leased = new TreeSet<>(StoredMessage.BY_LEASE_EXPIRY);
  private final QueueLimits limits = new QueueLimits();
  private Instant lastUsed;

  @SuppressWarnings("unchecked")
  QueueState(Instant now) {
    ready = new NavigableSet[PRIORITIES];
    for (int p = 0; p < PRIORITIES; p++) {
      ready[p] = new TreeSet<>(StoredMessage.BY_AVAILABILITY);
    }
    lastUsed = now;
  }

  /**
   * Puts a message that is in no set into ready or delayed, by its {@code availableAt}; a limited
   * message that is due is held by its limit key instead, unless it already holds a place there.
   */
  void schedule(StoredMessage m, Instant now) {
    if (m.availableAt.isAfter(now)) {
      delayed.add(m);
    } else {
      makeReady(m, now);
    }
  }

  private void makeReady(StoredMessage m, Instant now) {
    if (m.limit != null && !m.holdsSlot) {
      limits.hold(m, now.toEpochMilli());
    } else {
      ready[m.priority].add(m);
    }
  }

  /** The queue's flow-control keys. */
  QueueLimits limits() {
    return limits;
  }

  /**
   * Brings the queue up to {@code now}: delayed messages that are due become ready, and expired
   * leases end, their messages going back to ready at their original position.
   *
   * @param leases the broker's receipt index, from which expired receipts are removed
   */
  void refresh(Instant now, Map<String, StoredMessage> leases) {
    while (!delayed.isEmpty() && !delayed.first().availableAt.isAfter(now)) {
      makeReady(delayed.pollFirst(), now);
    }
    limits.forgetIdle(now.toEpochMilli());
    while (!leased.isEmpty() && !leased.first().leaseExpiresAt.isAfter(now)) {
      StoredMessage m = leased.pollFirst();
      leases.remove(m.receipt);
      m.receipt = null;
      m.leaseExpiresAt = null;
      ready[m.priority].add(m);
    }
  }

  /** Takes the first ready message, highest priority first; null if none. */
  StoredMessage pollReady() {
    for (int p = PRIORITIES - 1; p >= 0; p--) {
      StoredMessage m = ready[p].pollFirst();
      if (m != null) {
        return m;
      }
    }
    return null;
  }

  void addLeased(StoredMessage m) {
    leased.add(m);
  }

  void removeLeased(StoredMessage m) {
    leased.remove(m);
  }

  /** The earliest instant at which a delayed message becomes due or a lease expires, or null. */
  Instant nextChangeAt() {
    Instant next = delayed.isEmpty() ? null : delayed.first().availableAt;
    if (!leased.isEmpty() && (next == null || leased.first().leaseExpiresAt.isBefore(next))) {
      next = leased.first().leaseExpiresAt;
    }
    Double due = limits.nextDueAt();
    if (due != null) {
      Instant at = Instant.ofEpochMilli((long) Math.ceil(Math.max(due, 0)));
      if (next == null || at.isBefore(next)) {
        next = at;
      }
    }
    return next;
  }

  /**
   * Deletes the ready, delayed and held messages, passing each to {@code removed}; returns how
   * many.
   */
  long purge(Instant now, java.util.function.Consumer<StoredMessage> removed) {
    long n = delayed.size();
    delayed.forEach(removed);
    delayed.clear();
    for (NavigableSet<StoredMessage> set : ready) {
      n += set.size();
      for (StoredMessage m : set) {
        removed.accept(m);
        limits.free(m, now.toEpochMilli(), false); // a lease that ran out held a place
      }
      set.clear();
    }
    return n + limits.purge(now.toEpochMilli(), removed);
  }

  long readyCount() {
    long n = 0;
    for (NavigableSet<StoredMessage> set : ready) {
      n += set.size();
    }
    return n;
  }

  long delayedCount() {
    return delayed.size();
  }

  long leasedCount() {
    return leased.size();
  }

  /** Ready messages per priority, only priorities that have some. */
  Map<Integer, Long> readyByPriority() {
    Map<Integer, Long> counts = new TreeMap<>();
    for (int p = 0; p < PRIORITIES; p++) {
      if (!ready[p].isEmpty()) {
        counts.put(p, (long) ready[p].size());
      }
    }
    return counts;
  }

  /** When the longest-waiting ready message became ready, or null if none is ready. */
  Instant oldestReadyAt() {
    Instant oldest = null;
    for (NavigableSet<StoredMessage> set : ready) {
      if (!set.isEmpty() && (oldest == null || set.first().availableAt.isBefore(oldest))) {
        oldest = set.first().availableAt;
      }
    }
    return oldest;
  }

  boolean isEmpty() {
    return delayed.isEmpty() && leased.isEmpty() && readyCount() == 0 && limits.isEmpty();
  }

  /** Records activity, so an emptied queue is still listed for a while. */
  void touch(Instant now) {
    lastUsed = now;
  }

  Instant lastUsed() {
    return lastUsed;
  }
}
