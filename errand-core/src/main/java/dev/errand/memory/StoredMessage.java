package dev.errand.memory;

import dev.errand.spi.Delivery;
import dev.errand.spi.FlowLimit;
import java.time.Instant;
import java.util.Comparator;

/**
 * One message held by {@link MemoryBroker}. Mutable, guarded by the broker's lock. The fields that
 * order a message in a sorted set ({@link #availableAt}, {@link #seq}, {@link #leaseExpiresAt}) are
 * only changed while it is out of every set.
 */
final class StoredMessage {

  /** Ready and delayed order: the time it became (becomes) available, then enqueue sequence. */
  static final Comparator<StoredMessage> BY_AVAILABILITY =
      Comparator.comparing((StoredMessage m) -> m.availableAt).thenComparingLong(m -> m.seq);

  /** Leased order: soonest lease expiry first; the sequence makes the order total. */
  static final Comparator<StoredMessage> BY_LEASE_EXPIRY =
      Comparator.comparing((StoredMessage m) -> m.leaseExpiresAt).thenComparingLong(m -> m.seq);

  final String id;
  final String queue;
  final int priority;
  byte[] body;
  Instant availableAt;
  long seq;
  int deliveries;
  String receipt;
  Instant leaseExpiresAt;
  FlowLimit limit; // null when not limited
  String uniqueKey; // null when none
  boolean holdsSlot; // released by its limit key: counts in the key's concurrency

  StoredMessage(String id, String queue, int priority, byte[] body, Instant availableAt, long seq) {
    this.id = id;
    this.queue = queue;
    this.priority = priority;
    this.body = body;
    this.availableAt = availableAt;
    this.seq = seq;
  }

  /** The consumer's view of the current lease; the body is copied so it cannot change ours. */
  Delivery toDelivery() {
    return new Delivery(id, queue, priority, body.clone(), deliveries, receipt, leaseExpiresAt);
  }

  @Override
  public String toString() {
    return "StoredMessage{" + id + " in " + queue + ", seq " + seq + "}";
  }
}
