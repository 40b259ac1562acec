package dev.errand.redis.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * Celery's result records ({@code celery-task-meta-<id>}, JSON) to and from Errand's {@link
 * TaskStatus}. Exceptions cross as Celery writes them: {@code exc_type}, {@code exc_module} and
 * {@code exc_message}, so a Python client raises an exception named after the Java class, and a
 * Python failure reads in Java as a {@link TaskError} typed {@code module.Type}. Stateless and
 * thread-safe.
 */
public final class CeleryMeta {

  /** The key (and pub/sub channel) of a task's result. */
  public static final String PREFIX = "celery-task-meta-";

  /** Errand's own error types that have a Celery counterpart: type -> {module, name}. */
  private static final Map<String, String[]> CELERY_TYPES =
      Map.of(
          "UnknownTask", new String[] {"celery.exceptions", "NotRegistered"},
          "dev.errand.SoftTimeLimitExceeded",
              new String[] {"billiard.exceptions", "SoftTimeLimitExceeded"},
          "dev.errand.TimeLimitExceeded", new String[] {"billiard.exceptions", "TimeLimitExceeded"},
          "dev.errand.TaskRevokedException",
              new String[] {"celery.exceptions", "TaskRevokedError"});

  private static final long PID = ProcessHandle.current().pid();

  private CeleryMeta() {}

  /** The result key of task {@code id}. */
  public static String key(String id) {
    return PREFIX + id;
  }

  /**
   * The Celery record of {@code status}, or null for the states Celery never stores (PENDING,
   * RECEIVED).
   *
   * @param children result tuples of the tasks this one sent on (callbacks, the chain's next step)
   * @param groupId the Celery group the task belongs to, or null
   */
  public static byte[] write(TaskStatus status, ArrayNode children, String groupId) {
    TaskState state = status.state();
    if (state == TaskState.PENDING || state == TaskState.RECEIVED) {
      return null;
    }
    // Streamed, not built as a tree: one of these is written for every task a worker ends.
    ByteArrayBuilder out = new ByteArrayBuilder(256);
    try (JsonGenerator g = Wire.mapper().getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("status", state.name());
      g.writeFieldName("result");
      switch (state) {
        case SUCCESS -> writeTree(g, status.result());
        case PROGRESS -> writeTree(g, status.progress());
        case STARTED -> {
          g.writeStartObject();
          g.writeNumberField("pid", PID);
          g.writeStringField("hostname", status.worker() == null ? "" : status.worker());
          g.writeEndObject();
        }
        case REVOKED ->
            writeTree(
                g,
                exc(
                    "celery.exceptions",
                    "TaskRevokedError",
                    status.reason() == null ? "revoked" : status.reason()));
        default -> writeTree(g, error(status.error(), status.name()));
      }
      String traceback = status.error() == null ? null : status.error().traceback();
      g.writeFieldName("traceback");
      if (traceback == null) {
        g.writeNull();
      } else {
        g.writeString(traceback);
      }
      g.writeFieldName("children");
      if (children == null) {
        g.writeStartArray();
        g.writeEndArray();
      } else {
        writeTree(g, children);
      }
      g.writeFieldName("date_done");
      if (state.isReady()) {
        Instant done = status.finishedAt() != null ? status.finishedAt() : status.updatedAt();
        g.writeString(dateDone(done == null ? Instant.now() : done));
      } else {
        g.writeNull();
      }
      if (groupId != null) {
        g.writeStringField("group_id", groupId);
      }
      if (status.parentId() != null) {
        g.writeStringField("parent_id", status.parentId());
      }
      if (status.name() != null) {
        g.writeStringField("name", status.name());
      }
      if (status.worker() != null) {
        g.writeStringField("worker", status.worker());
      }
      if (status.queue() != null) {
        g.writeStringField("queue", status.queue());
      }
      g.writeNumberField("retries", Math.max(0, status.attempt() - 1));
      g.writeStringField("task_id", status.id());
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static void writeTree(JsonGenerator g, JsonNode value) throws IOException {
    if (value == null) {
      g.writeNull();
    } else {
      Wire.mapper().writeTree(g, value);
    }
  }

  /** A Celery exception record for {@code error}. */
  public static ObjectNode error(TaskError error, String taskName) {
    if (error == null) {
      return exc("celery.exceptions", "TaskError", null);
    }
    String[] celery = CELERY_TYPES.get(error.type());
    if (celery != null) {
      String message = error.type().equals("UnknownTask") ? taskName : error.message();
      return exc(celery[0], celery[1], message);
    }
    String type = error.type();
    int dot = type.lastIndexOf('.');
    if (dot <= 0 || dot == type.length() - 1) {
      return exc("errand", type, error.message());
    }
    return exc(type.substring(0, dot), type.substring(dot + 1), error.message());
  }

  private static ObjectNode exc(String module, String type, String message) {
    ObjectNode e = JsonNodeFactory.instance.objectNode();
    e.put("exc_type", type);
    ArrayNode msg = e.putArray("exc_message");
    if (message != null) {
      msg.add(message);
    }
    e.put("exc_module", module);
    return e;
  }

  /**
   * Reads a Celery record of task {@code id}.
   *
   * @return the status, or null when the record is not one Celery writes
   */
  public static TaskStatus read(String id, byte[] json) {
    JsonNode m;
    try {
      m = Wire.mapper().readTree(json);
    } catch (IOException e) {
      return null;
    }
    if (m == null || !m.isObject() || !m.path("status").isTextual()) {
      return null;
    }
    String status = m.get("status").asText();
    TaskState state;
    String reason = null;
    try {
      state = TaskState.valueOf(status);
    } catch (IllegalArgumentException e) {
      state =
          TaskState.PROGRESS; // a custom state (update_state(state="...")): progress with its name
      reason = status;
    }
    JsonNode result = m.get("result");
    JsonNode value = null;
    JsonNode progress = null;
    TaskError error = null;
    String traceback = m.path("traceback").isTextual() ? m.get("traceback").asText() : null;
    switch (state) {
      case SUCCESS ->
          value = CeleryWire.untag(result == null ? JsonNodeFactory.instance.nullNode() : result);
      case PROGRESS -> progress = result == null ? null : CeleryWire.untag(result);
      case FAILURE, RETRY -> error = readError(result, traceback);
      case REVOKED -> {
        error = readError(result, traceback);
        reason = error.message() == null ? "revoked" : error.message();
      }
      default -> {}
    }
    Instant done = null;
    if (m.path("date_done").isTextual()) {
      try {
        done = CeleryWire.parseTime(m.get("date_done").asText());
      } catch (IllegalArgumentException e) {
        done = null;
      }
    }
    int attempt = m.path("retries").canConvertToInt() ? m.get("retries").intValue() + 1 : 1;
    return new TaskStatus(
        id,
        m.path("name").isTextual() ? m.get("name").asText() : null,
        state,
        m.path("queue").isTextual() ? m.get("queue").asText() : null,
        value,
        error,
        progress,
        reason,
        attempt,
        m.path("worker").isTextual() ? m.get("worker").asText() : null,
        null,
        null,
        state.isReady() ? done : null,
        null,
        done,
        m.path("parent_id").isTextual() ? m.get("parent_id").asText() : null,
        null,
        null);
  }

  /** A Celery exception record as a {@link TaskError} typed {@code module.Type}. */
  static TaskError readError(JsonNode exc, String traceback) {
    if (exc == null || !exc.isObject() || !exc.path("exc_type").isTextual()) {
      return new TaskError("celery.UnknownError", exc == null ? null : exc.toString(), traceback);
    }
    String module = exc.path("exc_module").asText("");
    String type = exc.get("exc_type").asText();
    JsonNode msg = exc.get("exc_message");
    String message;
    if (msg == null || msg.isNull()) {
      message = null;
    } else if (msg.isArray() && msg.size() == 1 && msg.get(0).isTextual()) {
      message = msg.get(0).asText();
    } else if (msg.isArray() && msg.isEmpty()) {
      message = null;
    } else {
      message = msg.isTextual() ? msg.asText() : msg.toString();
    }
    return new TaskError(module.isEmpty() ? type : module + "." + type, message, traceback);
  }

  /** A result tuple as Celery lists children: {@code [[id, null], null]}. */
  public static ArrayNode resultTuple(String id) {
    ArrayNode t = JsonNodeFactory.instance.arrayNode(2);
    ArrayNode inner = t.addArray();
    inner.add(id);
    inner.addNull();
    t.addNull();
    return t;
  }

  /** {@code datetime.isoformat()} of a naive UTC time: the fraction only when not zero. */
  static String dateDone(Instant t) {
    LocalDateTime d = LocalDateTime.ofInstant(t, ZoneOffset.UTC);
    StringBuilder b = new StringBuilder(26);
    pad(b, d.getYear(), 4).append('-');
    pad(b, d.getMonthValue(), 2).append('-');
    pad(b, d.getDayOfMonth(), 2).append('T');
    pad(b, d.getHour(), 2).append(':');
    pad(b, d.getMinute(), 2).append(':');
    pad(b, d.getSecond(), 2);
    int micros = d.getNano() / 1000;
    if (micros != 0) {
      pad(b.append('.'), micros, 6);
    }
    return b.toString();
  }

  private static StringBuilder pad(StringBuilder b, int value, int digits) {
    String v = Integer.toString(value);
    for (int i = v.length(); i < digits; i++) {
      b.append('0');
    }
    return b.append(v);
  }
}
