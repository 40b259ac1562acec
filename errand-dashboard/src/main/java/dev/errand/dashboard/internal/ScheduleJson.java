package dev.errand.dashboard.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/**
 * A schedule from the JSON the API takes: the fields of {@code ScheduleEntry.toJson()}'s
 * definition, {@code trigger} in its text form; in an edit only the fields present change and
 * {@code null} clears an optional one.
 */
final class ScheduleJson {

  private ScheduleJson() {}

  static Schedule read(JsonNode body, ZoneId zone) {
    String name = text(body, "name");
    if (name == null) {
      throw new IllegalArgumentException("a schedule needs a name");
    }
    if (!body.hasNonNull("task") || !body.hasNonNull("trigger")) {
      throw new IllegalArgumentException("a schedule needs a task and a trigger");
    }
    return apply(body, Schedule.builder(name), zone).build();
  }

  static Schedule.Builder apply(JsonNode body, Schedule.Builder b, ZoneId zone) {
    if (body.has("zone")) b.zone(ZoneId.of(text(body, "zone")));
    if (body.has("task")) b.task(text(body, "task"));
    if (body.has("trigger")) b.trigger(Trigger.parse(text(body, "trigger")));
    if (body.has("args") || body.has("kwargs")) {
      b.args(
          body.get("args") != null && body.get("args").isArray()
              ? (com.fasterxml.jackson.databind.node.ArrayNode) body.get("args")
              : null,
          body.get("kwargs") != null && body.get("kwargs").isObject()
              ? (com.fasterxml.jackson.databind.node.ObjectNode) body.get("kwargs")
              : null);
    }
    if (body.has("queue")) b.queue(text(body, "queue"));
    if (body.has("priority"))
      b.priority(body.get("priority").isNull() ? null : body.get("priority").asInt());
    if (body.has("expires")) b.expires(duration(body, "expires"));
    if (body.has("start")) b.start(instant(body, "start"));
    if (body.has("end")) b.end(instant(body, "end"));
    if (body.has("maxRuns"))
      b.maxRuns(body.get("maxRuns").isNull() ? null : body.get("maxRuns").asLong());
    if (body.has("missedRuns")) b.missedRuns(MissedRuns.parse(text(body, "missedRuns")));
    if (body.has("enabled")) b.enabled(body.get("enabled").asBoolean(true));
    return b;
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    return n == null || n.isNull() ? null : n.asText();
  }

  private static Duration duration(JsonNode body, String field) {
    String v = text(body, field);
    try {
      return v == null ? null : Duration.parse(v);
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(
          field + " '" + v + "' is not an ISO-8601 duration like PT10M");
    }
  }

  private static Instant instant(JsonNode body, String field) {
    String v = text(body, field);
    try {
      return v == null ? null : Instant.parse(v);
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(field + " '" + v + "' is not an ISO-8601 instant");
    }
  }
}
