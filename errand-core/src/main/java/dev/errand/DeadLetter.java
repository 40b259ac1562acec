package dev.errand;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * A message that could not be processed, kept with the reason so it can be inspected, re-driven or
 * discarded.
 *
 * @param id the message id (the task id); a re-driven task keeps it
 * @param taskName the task name, null if the message could not be decoded
 * @param queue the queue it was delivered from
 * @param reason why it is here
 * @param error the error, never null
 * @param args positional arguments, null if undecodable
 * @param kwargs keyword arguments, null if undecodable
 * @param body the raw message as received (UTF-8 text, or a description if not text)
 * @param attempts how many times the task ran (or was delivered, for poison messages)
 * @param sentAt when the message was sent, null if unknown
 * @param failedAt when it was dead-lettered
 */
public record DeadLetter(
    String id,
    String taskName,
    String queue,
    DeadLetterReason reason,
    TaskError error,
    JsonNode args,
    JsonNode kwargs,
    String body,
    int attempts,
    Instant sentAt,
    Instant failedAt) {

  public DeadLetter {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(failedAt, "failedAt");
  }
}
