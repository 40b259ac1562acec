package dev.errand.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.errand.Event;
import dev.errand.TaskError;
import dev.errand.TaskStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * Streaming writers for the two records a worker writes for every task (its status and its events).
 * They produce exactly the bytes the shared mapper would (fields in record order, Java nulls left
 * out), at about a third of the cost: no serializer lookup, no reflective accessor calls, no
 * per-call serializer provider. {@code HotPathJsonTest} holds them to the mapper's output, so a
 * field added to either record must be added here too. Thread-safe.
 */
final class HotPathJson {

  private static final SerializedString NEWLINE = new SerializedString("\n");

  private HotPathJson() {}

  static byte[] status(ObjectMapper mapper, TaskStatus s) {
    return write(
        mapper,
        320,
        g -> {
          string(g, "id", s.id());
          string(g, "name", s.name());
          if (s.state() != null) {
            g.writeStringField("state", s.state().name());
          }
          string(g, "queue", s.queue());
          node(g, "result", s.result());
          if (s.error() != null) {
            error(g, s.error());
          }
          node(g, "progress", s.progress());
          string(g, "reason", s.reason());
          g.writeNumberField("attempt", s.attempt());
          string(g, "worker", s.worker());
          instant(g, "sentAt", s.sentAt());
          instant(g, "startedAt", s.startedAt());
          instant(g, "finishedAt", s.finishedAt());
          instant(g, "retryAt", s.retryAt());
          instant(g, "updatedAt", s.updatedAt());
          string(g, "parentId", s.parentId());
          node(g, "args", s.args());
          if (s.retries() != null) {
            g.writeArrayFieldStart("retries");
            for (TaskStatus.Retry r : s.retries()) {
              g.writeStartObject();
              g.writeNumberField("attempt", r.attempt());
              instant(g, "at", r.at());
              error(g, r.error());
              g.writeEndObject();
            }
            g.writeEndArray();
          }
        });
  }

  static byte[] event(ObjectMapper mapper, Event e) {
    return write(mapper, 256, g -> eventFields(g, e, e.seq()));
  }

  /**
   * Events {@code from} to {@code to} (exclusive) of the list, each with sequence number 0, one
   * JSON object per line: the bytes of {@link #event} for each, joined by newlines, written by one
   * generator into one buffer (a worker publishes three events per task).
   */
  static byte[] eventLines(ObjectMapper mapper, List<Event> events, int from, int to) {
    ByteArrayBuilder out = new ByteArrayBuilder(256 * (to - from));
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      g.setRootValueSeparator(NEWLINE);
      for (int i = from; i < to; i++) {
        g.writeStartObject();
        eventFields(g, events.get(i), 0);
        g.writeEndObject();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void eventFields(JsonGenerator g, Event e, long seq) throws IOException {
    g.writeNumberField("seq", seq);
    g.writeStringField("type", e.type().wireName());
    instant(g, "time", e.time());
    string(g, "taskId", e.taskId());
    string(g, "taskName", e.taskName());
    string(g, "worker", e.worker());
    string(g, "queue", e.queue());
    node(g, "data", e.data());
  }

  /** The fields written by {@code fields}, inside one JSON object. */
  private interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] write(ObjectMapper mapper, int sizeHint, Fields fields) {
    ByteArrayBuilder out = new ByteArrayBuilder(sizeHint);
    // The mapper's own factory: its codec is the mapper, which writeTree needs.
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      g.writeStartObject();
      fields.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void string(JsonGenerator g, String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  private static void instant(JsonGenerator g, String name, Instant value) throws IOException {
    if (value != null) {
      g.writeStringField(name, InstantFormat.format(value));
    }
  }

  private static void node(JsonGenerator g, String name, JsonNode value) throws IOException {
    if (value == null) {
      return;
    }
    g.writeFieldName(name);
    if (value.isNull()) {
      g.writeNull(); // the common result of a task that returns nothing
    } else {
      g.writeTree(value);
    }
  }

  private static void error(JsonGenerator g, TaskError error) throws IOException {
    g.writeObjectFieldStart("error");
    string(g, "type", error.type());
    string(g, "message", error.message());
    string(g, "traceback", error.traceback());
    g.writeEndObject();
  }
}
