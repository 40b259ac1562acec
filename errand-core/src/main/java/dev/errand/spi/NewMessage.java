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
 * @param limit the flow-control limit it is subject to, or null
 * @param uniqueKey a key no other message of the queue holds while this one is stored (queued,
 *     delayed, leased or waiting to retry), or null: an enqueue with a held key returns the holder
 */
public record NewMessage(
    String id,
    String queue,
    int priority,
    byte[] body,
    Instant notBefore,
    String idempotencyKey,
    Duration idempotencyWindow,
    FlowLimit limit,
    String uniqueKey) {

  /** The longest unique key: {@value} characters. */
  public static final int MAX_UNIQUE_KEY_LENGTH = 1000;

  /** A message without flow control. */
  public NewMessage(
      String id,
      String queue,
      int priority,
      byte[] body,
      Instant notBefore,
      String idempotencyKey,
      Duration idempotencyWindow) {
    this(id, queue, priority, body, notBefore, idempotencyKey, idempotencyWindow, null, null);
  }

  /** This message with {@code limit} and {@code uniqueKey}. */
  public NewMessage withFlowControl(FlowLimit limit, String uniqueKey) {
    return new NewMessage(
        id, queue, priority, body, notBefore, idempotencyKey, idempotencyWindow, limit, uniqueKey);
  }

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
    if (uniqueKey != null && (uniqueKey.isEmpty() || uniqueKey.length() > MAX_UNIQUE_KEY_LENGTH)) {
      throw new IllegalArgumentException(
          "unique key must be 1-"
              + MAX_UNIQUE_KEY_LENGTH
              + " characters but was "
              + uniqueKey.length());
    }
  }
}
