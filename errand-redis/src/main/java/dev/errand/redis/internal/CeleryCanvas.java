package dev.errand.redis.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.wire.CallHistory;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Celery message's canvas sends once its task ends, as a Celery worker would: on success the
 * callbacks ({@code link}) and the chain's next step, each with the result prepended to its
 * arguments (unless immutable); on failure the errbacks with the task id prepended, and the same
 * failure stored under every later chain step's id, so a client waiting on the chain's end is told.
 * Stateless and thread-safe.
 */
final class CeleryCanvas {

  private static final Logger log = LoggerFactory.getLogger(CeleryCanvas.class);

  private CeleryCanvas() {}

  /**
   * The messages and records that follow {@code m} ending with {@code status}.
   *
   * @param pushes list key and envelope of each message to send
   * @param records statuses to store besides the task's own (failed chain steps)
   * @param children result tuples of the messages sent, for the task's own record
   */
  record Next(List<byte[][]> pushes, List<TaskStatus> records, ArrayNode children) {
    static final Next NONE = new Next(List.of(), List.of(), null);
  }

  static Next after(TaskMessage m, TaskStatus status, String defaultQueue, Instant now) {
    String json = m.headers().get(CeleryWire.EMBED);
    if (json == null || !status.state().isReady()) {
      return Next.NONE;
    }
    JsonNode embed;
    try {
      embed = Wire.mapper().readTree(json);
    } catch (IOException e) {
      return Next.NONE;
    }
    List<byte[][]> pushes = new ArrayList<>();
    List<TaskStatus> records = new ArrayList<>();
    ArrayNode children = JsonNodeFactory.instance.arrayNode();
    ArrayNode prepend = JsonNodeFactory.instance.arrayNode();
    if (status.state() == TaskState.SUCCESS) {
      prepend.add(status.result() == null ? JsonNodeFactory.instance.nullNode() : status.result());
      for (JsonNode sig : list(embed.get("callbacks"))) {
        send(m, sig, prepend, null, defaultQueue, now, pushes, children);
      }
      JsonNode chain = embed.get("chain");
      if (chain != null && chain.isArray() && !chain.isEmpty()) {
        ArrayNode rest = JsonNodeFactory.instance.arrayNode();
        for (int i = 0; i < chain.size() - 1; i++) {
          rest.add(chain.get(i));
        }
        send(m, chain.get(chain.size() - 1), prepend, rest, defaultQueue, now, pushes, children);
      }
    } else if (status.state() == TaskState.FAILURE) {
      prepend.add(m.id());
      for (JsonNode sig : list(embed.get("errbacks"))) {
        send(m, sig, prepend, null, defaultQueue, now, pushes, children);
      }
      for (JsonNode sig : list(embed.get("chain"))) {
        String id = sig.path("options").path("task_id").asText("");
        if (!id.isEmpty()) {
          records.add(failed(id, sig.path("task").asText(null), status.error(), m, status));
        }
      }
    }
    JsonNode chord = embed.get("chord");
    String body = chord == null ? "" : chord.path("options").path("task_id").asText("");
    if (!body.isEmpty()) {
      // A Celery chord member: Errand workers do not count them (docs/celery.md), so the body
      // would never be sent. Its record says so at once rather than leave a client waiting.
      log.warn(
          "task [{}] is a member of a Celery chord, which Errand workers do not count: its body"
              + " [{}] fails with ChordError",
          m.id(),
          body);
      TaskError chordError =
          new TaskError(
              "celery.exceptions.ChordError",
              "chord member "
                  + m.id()
                  + " ran on an Errand worker, which does not count Celery chord members;"
                  + " run chord members on Celery workers",
              null);
      records.add(failed(body, chord.path("task").asText(null), chordError, m, status));
    }
    return new Next(pushes, records, children.isEmpty() ? null : children);
  }

  /** The FAILURE record of task {@code id}, which {@code m} sent (or would have), ended by it. */
  private static TaskStatus failed(
      String id, String name, TaskError error, TaskMessage m, TaskStatus ended) {
    return new TaskStatus(
        id,
        name,
        TaskState.FAILURE,
        null,
        null,
        error,
        null,
        null,
        1,
        ended.worker(),
        null,
        null,
        ended.finishedAt(),
        null,
        ended.updatedAt(),
        m.id(),
        null,
        null);
  }

  private static List<JsonNode> list(JsonNode v) {
    List<JsonNode> out = new ArrayList<>();
    if (v == null || v.isNull()) {
      return out;
    }
    if (v.isArray()) {
      v.forEach(out::add);
    } else if (v.isObject()) {
      out.add(v);
    }
    return out;
  }

  private static void send(
      TaskMessage parent,
      JsonNode sig,
      ArrayNode prepend,
      ArrayNode chainRest,
      String defaultQueue,
      Instant now,
      List<byte[][]> pushes,
      ArrayNode children) {
    if (sig == null || !sig.isObject() || !sig.path("task").isTextual()) {
      log.warn("task [{}]: skipped a canvas step that is not a signature: {}", parent.id(), sig);
      return;
    }
    JsonNode type = sig.get("subtask_type");
    if (type != null && !type.isNull()) {
      log.warn(
          "task [{}]: skipped a nested '{}' canvas step, which Errand does not expand: {}",
          parent.id(),
          type.asText(),
          sig.path("task").asText());
      return;
    }
    JsonNode opts = sig.path("options");
    ArrayNode args = JsonNodeFactory.instance.arrayNode();
    if (!sig.path("immutable").asBoolean(false)) {
      args.addAll(prepend);
    }
    if (sig.path("args").isArray()) {
      args.addAll((ArrayNode) sig.get("args"));
    }
    ObjectNode kwargs =
        sig.path("kwargs").isObject()
            ? (ObjectNode) sig.get("kwargs")
            : JsonNodeFactory.instance.objectNode();
    String id = opts.path("task_id").asText("");
    if (id.isEmpty()) {
      id = UUID.randomUUID().toString();
    }
    String queue = opts.path("queue").isTextual() ? opts.get("queue").asText() : null;
    if (queue == null && opts.path("queue").path("name").isTextual()) {
      queue = opts.get("queue").get("name").asText();
    }
    if (queue == null && opts.path("routing_key").isTextual()) {
      queue = opts.get("routing_key").asText();
    }
    if (queue == null || queue.isEmpty()) {
      queue = defaultQueue;
    }
    int celeryPriority =
        opts.path("priority").canConvertToInt()
            ? Math.max(0, Math.min(9, opts.get("priority").intValue()))
            : 0;
    Instant eta = null;
    if (opts.path("countdown").isNumber()) {
      eta = now.plusMillis(Math.round(opts.get("countdown").doubleValue() * 1000));
    } else if (opts.path("eta").isTextual()) {
      eta = parse(opts.get("eta").asText());
    }
    Instant expires = null;
    if (opts.path("expires").isNumber()) {
      expires = now.plusMillis(Math.round(opts.get("expires").doubleValue() * 1000));
    } else if (opts.path("expires").isTextual()) {
      expires = parse(opts.get("expires").asText());
    }
    Long soft = millis(opts.get("soft_time_limit"));
    Long hard = millis(opts.get("time_limit"));
    ObjectNode embed = JsonNodeFactory.instance.objectNode();
    embed.set("callbacks", listOrNull(opts.get("link")));
    embed.set("errbacks", listOrNull(opts.get("link_error")));
    embed.set("chain", chainRest == null ? JsonNodeFactory.instance.nullNode() : chainRest);
    embed.set(
        "chord",
        opts.path("chord").isObject() ? opts.get("chord") : JsonNodeFactory.instance.nullNode());
    Map<String, String> headers = new HashMap<>();
    headers.put(CeleryWire.EMBED, embed.toString());
    String root = parent.headers().get(CeleryWire.ROOT_ID);
    headers.put(CeleryWire.ROOT_ID, root == null ? parent.id() : root);
    headers.put(CallHistory.PARENT_HEADER, parent.id());
    if (opts.path("group_id").isTextual()) {
      headers.put(CeleryWire.GROUP, opts.get("group_id").asText());
    }
    if (opts.path("group_index").canConvertToInt()) {
      headers.put(CeleryWire.GROUP_INDEX, Integer.toString(opts.get("group_index").intValue()));
    }
    TaskMessage next =
        new TaskMessage(
            Wire.PLAIN_VERSION,
            id,
            sig.get("task").asText(),
            args,
            kwargs,
            queue,
            CeleryWire.toErrand(celeryPriority),
            eta,
            expires,
            0,
            now,
            null,
            headers,
            soft == null && hard == null
                ? MessageOptions.NONE
                : new MessageOptions(null, soft, hard, null, null, null, null));
    pushes.add(
        new byte[][] {
          CeleryWire.bucketKey(queue, celeryPriority)
              .getBytes(java.nio.charset.StandardCharsets.UTF_8),
          CeleryWire.write(next, CeleryWire.newTag(), now)
        });
    children.add(CeleryMeta.resultTuple(id));
  }

  private static JsonNode listOrNull(JsonNode v) {
    if (v == null || v.isNull()) {
      return JsonNodeFactory.instance.nullNode();
    }
    if (v.isArray()) {
      return v;
    }
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    a.add(v);
    return a;
  }

  private static Instant parse(String text) {
    try {
      return CeleryWire.parseTime(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static Long millis(JsonNode seconds) {
    if (seconds == null || !seconds.isNumber() || seconds.doubleValue() <= 0) {
      return null;
    }
    return Math.max(1, Math.round(seconds.doubleValue() * 1000));
  }
}
