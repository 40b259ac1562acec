package dev.errand.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A message to enqueue.
 *
 * @param id the message (task) id, unique
 * @param queue the queue
 * @param priority 0-9, 9 first
 * @param body the encoded message; the broker stores it opaquely
 * @param notBefore earliest delivery instant, or null for now
 * @param idempotencyKey deduplication key, or null
 * @param idempotencyWindow how long the key deduplicates; required with a key
 */
public record NewMessage(
    String id,
    String queue,
    int priority,
    byte[] body,
    Instant notBefore,
    String idempotencyKey,
    Duration idempotencyWindow) {

  public NewMessage {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(body, "body");
    if (priority < 0 || priority > 9) {
      throw new IllegalArgumentException("priority must be 0-9 but was " + priority);
    }
    if (idempotencyKey != null && idempotencyWindow == null) {
      throw new IllegalArgumentException("idempotencyWindow is required with an idempotency key");
    }
  }
}
