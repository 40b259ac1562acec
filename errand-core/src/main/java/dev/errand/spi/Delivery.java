package dev.errand.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A message leased to one consumer. The {@link #receipt()} identifies this lease: once the lease
 * expires and the message is delivered again, the old receipt can no longer ack, renew, release or
 * retry it.
 *
 * @param id the message id
 * @param queue the queue it came from
 * @param priority its priority
 * @param body the message as enqueued
 * @param deliveries how many times it has been delivered, this delivery included (1 the first
 *     time); reset when it is retried
 * @param receipt the lease token
 * @param leaseExpiresAt when the lease runs out unless renewed
 * @param decoded the message as the broker already read it, checked as {@link
 *     dev.errand.wire.Wire#decodeMessage} checks it, or null (then the worker decodes {@code
 *     body}); for a broker that translates another format (Celery's), whose {@code body} is then
 *     that format, kept for dead letters and to be sent again as it was
 */
public record Delivery(
    String id,
    String queue,
    int priority,
    byte[] body,
    int deliveries,
    String receipt,
    Instant leaseExpiresAt,
    dev.errand.wire.TaskMessage decoded) {

  /** A delivery whose body is an Errand message, which the worker decodes. */
  public Delivery(
      String id,
      String queue,
      int priority,
      byte[] body,
      int deliveries,
      String receipt,
      Instant leaseExpiresAt) {
    this(id, queue, priority, body, deliveries, receipt, leaseExpiresAt, null);
  }

  public Delivery {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(receipt, "receipt");
  }

  @Override
  public String toString() {
    return "Delivery{" + id + " from " + queue + ", delivery " + deliveries + "}";
  }
}
