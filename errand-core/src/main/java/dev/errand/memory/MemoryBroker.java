package dev.errand.memory;

import dev.errand.TaskOptions;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The in-memory {@link Broker}: one lock over per-queue sorted sets (see {@link QueueState}), so a
 * claim costs O(log n) per message. Thread-safe.
 *
 * <p>Time comes from the clock, except the bound of a blocking {@link #claim}, which is real time:
 * a test clock that never moves must not block a consumer forever. While it waits, a claim wakes at
 * least every {@link #MAX_WAIT_STEP} to re-check against the clock, so a test that advances a fake
 * clock sees delayed messages and expired leases picked up promptly.
 *
 * <p>Expired leases are reaped lazily, by a claim on or the stats of their queue. Until then the
 * receipt still works: a late ack of a message nobody else has received is taken, not wasted.
 */
final class MemoryBroker implements Broker {

  /** The longest a waiting claim sleeps before looking at the clock again. */
  static final Duration MAX_WAIT_STEP = Duration.ofMillis(InMemoryBackend.MAX_WAIT_STEP_MILLIS);

  /** How long an emptied queue is still listed by {@link #queues()}. */
  static final Duration RECENT = Duration.ofHours(1);

  private static final long MAX_WAIT_STEP_NANOS = MAX_WAIT_STEP.toNanos();
  private static final long MIN_WAIT_STEP_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

  private final Clock clock;
  private final String description;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<String, QueueState> queues = new HashMap<>();
  private final Map<String, StoredMessage> leases = new HashMap<>(); // by receipt
  private final java.util.Set<String> present = new java.util.HashSet<>(); // ids of stored messages
  private final ExpiringMap<String, String> idempotencyKeys = new ExpiringMap<>();
  private final java.util.TreeSet<String> paused = new java.util.TreeSet<>();
  private final Map<String, String> uniqueHolders = new HashMap<>(); // queue \0 key -> id
  private long seq;
  private long wakeups;
  private boolean closed;

  MemoryBroker(Clock clock, String description) {
    this.clock = clock;
    this.description = description;
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    Objects.requireNonNull(messages, "messages");
    for (NewMessage m : messages) {
      Objects.requireNonNull(m, "messages must not contain null");
      if (m.idempotencyKey() != null) {
        Durations.requirePositive(m.idempotencyWindow(), "idempotencyWindow");
      }
    }
    List<EnqueueResult> results = new ArrayList<>(messages.size());
    lock.lock();
    try {
      checkOpen();
      Instant now = clock.instant();
      for (NewMessage nm : messages) {
        if (nm.idempotencyKey() != null) {
          String first = idempotencyKeys.get(nm.idempotencyKey(), now);
          if (first != null) {
            results.add(new EnqueueResult(first, true));
            continue;
          }
        }
        if (nm.uniqueKey() != null) {
          String holder = uniqueHolders.get(uniqueKey(nm.queue(), nm.uniqueKey()));
          if (holder != null) {
            results.add(new EnqueueResult(holder, true));
            continue;
          }
          uniqueHolders.put(uniqueKey(nm.queue(), nm.uniqueKey()), nm.id());
        }
        if (nm.idempotencyKey() != null) {
          idempotencyKeys.put(
              nm.idempotencyKey(), nm.id(), Durations.plus(now, nm.idempotencyWindow()), now);
        }
        StoredMessage m =
            new StoredMessage(
                nm.id(),
                nm.queue(),
                nm.priority(),
                nm.body().clone(),
                Durations.notBefore(nm.notBefore(), now),
                ++seq);
        m.limit = nm.limit();
        m.uniqueKey = nm.uniqueKey();
        queue(nm.queue(), now).schedule(m, now);
        present.add(nm.id());
        results.add(new EnqueueResult(nm.id(), false));
      }
      // Delayed messages too: a waiter may need to shorten its sleep to their due time.
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return results;
  }

  @Override
  public List<Delivery> claim(List<String> queueNames, int max, Duration lease, Duration wait)
      throws InterruptedException {
    Objects.requireNonNull(queueNames, "queues");
    if (queueNames.isEmpty()) {
      throw new IllegalArgumentException("queues must not be empty");
    }
    List<String> names = List.copyOf(queueNames); // also rejects null names
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0 but was " + max);
    }
    Durations.requirePositive(lease, "lease");
    Durations.requireNonNegative(wait, "wait");
    long waitNanos = wait.compareTo(Duration.ofDays(365)) > 0 ? Long.MAX_VALUE / 4 : wait.toNanos();
    long deadline = System.nanoTime() + waitNanos;
    lock.lockInterruptibly();
    try {
      checkOpen();
      long wakeupsAtStart = wakeups;
      while (true) {
        Instant now = clock.instant();
        List<Delivery> taken = take(names, max, lease, now);
        long remaining = deadline - System.nanoTime();
        if (!taken.isEmpty() || remaining <= 0 || wakeups != wakeupsAtStart || closed) {
          return taken;
        }
        long step = Math.min(remaining, MAX_WAIT_STEP_NANOS);
        Instant next = nextChangeAt(names);
        if (next != null) {
          step = Math.min(step, Math.max(MIN_WAIT_STEP_NANOS, Durations.nanosBetween(now, next)));
        }
        changed.awaitNanos(step);
      }
    } finally {
      lock.unlock();
    }
  }

  private List<Delivery> take(List<String> names, int max, Duration lease, Instant now) {
    List<Delivery> out = new ArrayList<>(Math.min(max, 64));
    Instant expiresAt = Durations.plus(now, lease);
    for (String name : names) {
      QueueState q = queues.get(name);
      if (q == null || paused.contains(name)) {
        continue;
      }
      q.refresh(now, leases);
      // Held messages whose limit key is due first: they waited for their turn, and a claim that
      // took only ready ones could leave a key's turn unused while the queue has a backlog.
      q.limits().take(now.toEpochMilli(), max - out.size(), m -> lease(q, m, expiresAt, out));
      StoredMessage m;
      while (out.size() < max && (m = q.pollReady()) != null) {
        lease(q, m, expiresAt, out);
      }
      if (out.size() == max) {
        break;
      }
    }
    return out;
  }

  private void lease(QueueState q, StoredMessage m, Instant expiresAt, List<Delivery> out) {
    m.deliveries++;
    m.receipt = newReceipt();
    m.leaseExpiresAt = expiresAt;
    q.addLeased(m);
    leases.put(m.receipt, m);
    out.add(m.toDelivery());
  }

  private static String uniqueKey(String queue, String key) {
    return queue + '\u0000' + key;
  }

  /** A message leaves the broker: its unique key, if it holds one, is free again. */
  private void removed(StoredMessage m) {
    present.remove(m.id);
    if (m.uniqueKey != null) {
      uniqueHolders.remove(uniqueKey(m.queue, m.uniqueKey), m.id);
    }
  }

  private Instant nextChangeAt(List<String> names) {
    Instant next = null;
    for (String name : names) {
      QueueState q = queues.get(name);
      // a paused queue changes nothing a claim could take: resume signals the waiters
      Instant at = q == null || paused.contains(name) ? null : q.nextChangeAt();
      if (at != null && (next == null || at.isBefore(next))) {
        next = at;
      }
    }
    return next;
  }

  @Override
  public boolean ack(Delivery delivery) {
    lock.lock();
    try {
      StoredMessage m = leased(delivery);
      if (m == null) {
        return false;
      }
      endLease(m);
      queues.get(m.queue).limits().free(m, clock.millis(), false);
      removed(m);
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    Objects.requireNonNull(deliveries, "deliveries");
    Durations.requirePositive(lease, "lease");
    Set<String> lost = new LinkedHashSet<>();
    lock.lock();
    try {
      Instant expiresAt = Durations.plus(clock.instant(), lease);
      for (Delivery d : deliveries) {
        StoredMessage m = leased(d);
        if (m == null) {
          lost.add(d.id());
          continue;
        }
        QueueState q = queues.get(m.queue);
        q.removeLeased(m);
        m.leaseExpiresAt = expiresAt;
        q.addLeased(m);
      }
    } finally {
      lock.unlock();
    }
    return lost;
  }

  @Override
  public boolean release(Delivery delivery) {
    lock.lock();
    try {
      StoredMessage m = leased(delivery);
      if (m == null) {
        return false;
      }
      endLease(m);
      m.deliveries = Math.max(0, m.deliveries - 1);
      // Same availableAt and sequence as before: back to its original position; its start is
      // given back to its limit's rate (it never ran).
      Instant now = clock.instant();
      queues.get(m.queue).limits().free(m, now.toEpochMilli(), true);
      queue(m.queue, now).schedule(m, now);
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    Objects.requireNonNull(body, "body");
    lock.lock();
    try {
      StoredMessage m = leased(delivery);
      if (m == null) {
        return false;
      }
      endLease(m);
      Instant now = clock.instant();
      queues.get(m.queue).limits().free(m, now.toEpochMilli(), false);
      m.body = body.clone();
      m.deliveries = 0;
      m.availableAt = Durations.notBefore(notBefore, now);
      m.seq = ++seq;
      queue(m.queue, now).schedule(m, now);
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void wakeup() {
    lock.lock();
    try {
      wakeups++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<String> queues() {
    lock.lock();
    try {
      Instant forgetBefore = clock.instant().minus(RECENT);
      List<String> names = new ArrayList<>();
      Iterator<Map.Entry<String, QueueState>> it = queues.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<String, QueueState> e = it.next();
        if (e.getValue().isEmpty()
            && e.getValue().lastUsed().isBefore(forgetBefore)
            && !paused.contains(e.getKey())) {
          it.remove();
        } else {
          names.add(e.getKey());
        }
      }
      names.sort(null);
      return names;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public QueueStats stats(String queue) {
    Objects.requireNonNull(queue, "queue");
    lock.lock();
    try {
      QueueState q = queues.get(queue);
      if (q == null) {
        return new QueueStats(queue, 0, 0, 0, Map.of(), null, paused.contains(queue), 0);
      }
      q.refresh(clock.instant(), leases);
      return new QueueStats(
          queue,
          q.readyCount(),
          q.leasedCount(),
          q.delayedCount(),
          q.readyByPriority(),
          q.oldestReadyAt(),
          paused.contains(queue),
          q.limits().heldCount());
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void pause(String queue) {
    TaskOptions.validQueue(queue);
    lock.lock();
    try {
      checkOpen();
      paused.add(queue);
      queue(queue, clock.instant()); // listed while paused, even when empty
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void resume(String queue) {
    TaskOptions.validQueue(queue);
    lock.lock();
    try {
      checkOpen();
      if (paused.remove(queue)) {
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<dev.errand.spi.LimitStats> limits(String queue, int max) {
    Objects.requireNonNull(queue, "queue");
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0 but was " + max);
    }
    lock.lock();
    try {
      QueueState q = queues.get(queue);
      if (q == null) {
        return List.of();
      }
      q.refresh(clock.instant(), leases);
      return q.limits().stats(max);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<String> pausedQueues() {
    lock.lock();
    try {
      return List.copyOf(paused);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public long purge(String queue) {
    Objects.requireNonNull(queue, "queue");
    lock.lock();
    try {
      QueueState q = queues.get(queue);
      if (q == null) {
        return 0;
      }
      Instant now = clock.instant();
      q.touch(now);
      return q.purge(now, this::removed);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code apply} under the broker's lock if {@code delivery}'s receipt is current (or it is
   * null), so that nothing else of the broker happens in between: the settlement of one attempt.
   *
   * @return false, having run nothing, if the receipt is stale
   */
  boolean whileLeased(Delivery delivery, Runnable apply) {
    lock.lock();
    try {
      checkOpen();
      if (delivery != null && leased(delivery) == null) {
        return false;
      }
      apply.run();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Enqueues those of {@code messages} whose id is not stored yet (a settlement's follow-ups). */
  void enqueueNew(List<NewMessage> messages) {
    lock.lock();
    try {
      List<NewMessage> fresh = new ArrayList<>(messages.size());
      for (NewMessage m : messages) {
        if (!present.contains(m.id())) {
          fresh.add(m);
        }
      }
      if (!fresh.isEmpty()) {
        enqueue(fresh);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Refuses further enqueues and claims, and ends the waits in progress. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("backend " + description + " is closed");
    }
  }

  private QueueState queue(String name, Instant now) {
    QueueState q = queues.computeIfAbsent(name, n -> new QueueState(now));
    q.touch(now);
    return q;
  }

  /** The message {@code d} holds a current lease on, or null if its receipt is stale. */
  private StoredMessage leased(Delivery d) {
    Objects.requireNonNull(d, "delivery");
    StoredMessage m = leases.get(d.receipt());
    return m != null && m.id.equals(d.id()) ? m : null;
  }

  private void endLease(StoredMessage m) {
    queues.get(m.queue).removeLeased(m);
    leases.remove(m.receipt);
    m.receipt = null;
    m.leaseExpiresAt = null;
  }

  private static String newReceipt() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return new UUID(r.nextLong(), r.nextLong()).toString();
  }
}
