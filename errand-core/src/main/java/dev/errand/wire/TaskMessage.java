package dev.errand.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A task message as it travels through the broker: format version {@value Wire#PLAIN_VERSION}, or
 * {@value Wire#VERSION} when it carries a workflow ({@link #flow}), described field by field in
 * {@code docs/wire-format.md}. Immutable.
 *
 * @param v the format version
 * @param id the task id
 * @param task the task name
 * @param args positional arguments, never null (empty when none)
 * @param kwargs keyword arguments, never null (empty when none)
 * @param queue the queue it was sent to
 * @param priority 0-9, 9 first
 * @param eta earliest start, or null
 * @param expires instant after which it is revoked instead of run, or null
 * @param retries how many times it has been retried so far (0 on the first attempt)
 * @param sentAt when the producer sent it
 * @param idempotencyKey the enqueue deduplication key, or null
 * @param headers free-form string headers ({@code requestId}, tracing), never null
 * @param options per-call execution options, never null
 * @param flow the rest of the workflow this task belongs to, or null (a plain task); a message with
 *     a flow is format version 2
 */
public record TaskMessage(
    int v,
    String id,
    String task,
    ArrayNode args,
    ObjectNode kwargs,
    String queue,
    int priority,
    Instant eta,
    Instant expires,
    int retries,
    Instant sentAt,
    String idempotencyKey,
    Map<String, String> headers,
    MessageOptions options,
    Flow flow) {

  /** The header carrying the caller's request id. */
  public static final String REQUEST_ID = "requestId";

  public TaskMessage {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(queue, "queue");
    args = args == null ? Wire.mapper().createArrayNode() : args;
    kwargs = kwargs == null ? Wire.mapper().createObjectNode() : kwargs;
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    options = options == null ? MessageOptions.NONE : options;
    flow = flow == null || flow.changesNothing() ? null : flow;
  }

  /** A message of a plain task: no workflow. */
  public TaskMessage(
      int v,
      String id,
      String task,
      ArrayNode args,
      ObjectNode kwargs,
      String queue,
      int priority,
      Instant eta,
      Instant expires,
      int retries,
      Instant sentAt,
      String idempotencyKey,
      Map<String, String> headers,
      MessageOptions options) {
    this(
        v,
        id,
        task,
        args,
        kwargs,
        queue,
        priority,
        eta,
        expires,
        retries,
        sentAt,
        idempotencyKey,
        headers,
        options,
        null);
  }

  /** A copy for the next retry: {@code retries + 1}, due at {@code eta}. */
  public TaskMessage forRetry(Instant eta) {
    return new TaskMessage(
        v,
        id,
        task,
        args,
        kwargs,
        queue,
        priority,
        eta,
        expires,
        retries + 1,
        sentAt,
        idempotencyKey,
        headers,
        options,
        flow);
  }

  /** A copy with {@code extra} headers added (replacing any of the same names). */
  public TaskMessage withHeaders(Map<String, String> extra) {
    Map<String, String> h = new java.util.LinkedHashMap<>(headers);
    h.putAll(extra);
    return new TaskMessage(
        v,
        id,
        task,
        args,
        kwargs,
        queue,
        priority,
        eta,
        expires,
        retries,
        sentAt,
        idempotencyKey,
        h,
        options,
        flow);
  }

  /** A copy to run again from scratch: no retries so far, no eta. */
  public TaskMessage forRedrive(Instant now) {
    return new TaskMessage(
        v, id, task, args, kwargs, queue, priority, null, null, 0, now, null, headers, options,
        flow);
  }

  /** The request id header, or null. */
  public String requestId() {
    return headers.get(REQUEST_ID);
  }

  /** The arguments as one JSON value, for display: kwargs, args, or both. */
  public JsonNode argumentsForDisplay() {
    if (args.isEmpty()) {
      return kwargs;
    }
    if (kwargs.isEmpty()) {
      return args;
    }
    ObjectNode both = Wire.mapper().createObjectNode();
    both.set("args", args);
    both.set("kwargs", kwargs);
    return both;
  }
}
