package dev.errand.scheduler.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleEntry;
import dev.errand.scheduler.ScheduleState;
import dev.errand.scheduler.Trigger;
import dev.errand.spi.StoredSchedule;
import dev.errand.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HexFormat;

/**
 * The JSON body of a stored schedule, version {@value #VERSION}: the definition's fields, the
 * {@code state}, and {@code code}, a hash of the definition as last deployed from code (absent for
 * schedules made at runtime). Written by hand rather than by data binding so that the stored form
 * stays stable whatever the Java classes become; fixtures in the tests pin it.
 */
public final class ScheduleCodec {

  /** The body format's version: {@value}. */
  public static final int VERSION = 1;

  private ScheduleCodec() {}

  /** A decoded body: the entry and the code hash (or null). */
  public record Decoded(ScheduleEntry entry, String codeHash) {}

  /** The JSON body of {@code schedule} in {@code state}, with the code hash or null. */
  public static String encode(Schedule schedule, ScheduleState state, String codeHash) {
    return tree(schedule, state, codeHash).toString();
  }

  /** {@link #encode} as a JSON tree. */
  public static ObjectNode tree(Schedule schedule, ScheduleState state, String codeHash) {
    ObjectNode o = Wire.mapper().createObjectNode();
    o.put("v", VERSION);
    definition(o, schedule);
    ObjectNode s = o.putObject("state");
    putInstant(s, "createdAt", state.createdAt());
    putInstant(s, "cursor", state.cursor());
    putInstant(s, "lastTick", state.lastTick());
    putInstant(s, "lastFiredAt", state.lastFiredAt());
    if (state.lastTaskId() != null) {
      s.put("lastTaskId", state.lastTaskId());
    }
    putInstant(s, "nextFire", state.nextFire());
    s.put("totalRuns", state.totalRuns());
    s.put("missedTicks", state.missedTicks());
    if (codeHash != null) {
      o.put("code", codeHash);
    }
    return o;
  }

  /**
   * Decodes a stored body.
   *
   * @throws IllegalArgumentException naming the schedule and what is wrong
   */
  public static Decoded decode(StoredSchedule stored) {
    try {
      JsonNode o = Wire.mapper().readTree(stored.body());
      int v = o.path("v").asInt(-1);
      if (v != VERSION) {
        throw new IllegalArgumentException(
            "body version is " + v + ", this Errand reads " + VERSION);
      }
      Schedule.Builder b =
          Schedule.builder(stored.name())
              .task(text(o, "task"))
              .args((ArrayNode) o.get("args"), (ObjectNode) o.get("kwargs"))
              .trigger(Trigger.parse(text(o, "trigger")))
              .zone(ZoneId.of(text(o, "zone")))
              .queue(o.path("queue").textValue())
              .priority(o.hasNonNull("priority") ? o.get("priority").intValue() : null)
              .expires(o.hasNonNull("expires") ? Duration.parse(o.get("expires").asText()) : null)
              .enabled(o.path("enabled").asBoolean(true))
              .start(instant(o, "start"))
              .end(instant(o, "end"))
              .maxRuns(o.hasNonNull("maxRuns") ? o.get("maxRuns").longValue() : null)
              .missedRuns(missedRuns(o));
      JsonNode s = o.path("state");
      ScheduleState state =
          new ScheduleState(
              instant(s, "createdAt"),
              instant(s, "cursor"),
              instant(s, "lastTick"),
              instant(s, "lastFiredAt"),
              s.path("lastTaskId").textValue(),
              instant(s, "nextFire"),
              s.path("totalRuns").asLong(),
              s.path("missedTicks").asLong());
      if (state.createdAt() == null || state.cursor() == null) {
        throw new IllegalArgumentException("state has no createdAt or cursor");
      }
      String code = o.path("code").textValue();
      return new Decoded(new ScheduleEntry(b.build(), state, stored.version(), code != null), code);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IllegalArgumentException(
          "stored schedule '" + stored.name() + "' cannot be read: " + e.getMessage(), e);
    }
  }

  /** A hash of the definition, to tell whether code changed it since it was last deployed. */
  public static String codeHash(Schedule schedule) {
    ObjectNode o = Wire.mapper().createObjectNode();
    definition(o, schedule);
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(o.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static void definition(ObjectNode o, Schedule s) {
    o.put("task", s.task());
    o.set("args", s.args());
    o.set("kwargs", s.kwargs());
    o.put("trigger", s.trigger().describe());
    o.put("zone", s.zone().getId());
    o.put("queue", s.queue());
    o.put("priority", s.priority());
    o.put("expires", s.expires() == null ? null : s.expires().toString());
    o.put("enabled", s.enabled());
    putInstant(o, "start", s.start());
    putInstant(o, "end", s.end());
    o.put("maxRuns", s.maxRuns());
    o.put("missedRuns", s.missedRuns().toString());
  }

  /**
   * Every body Errand writes names its policy, so a stored schedule keeps the one it was made with
   * (one made before run-once became the default keeps {@code skip}); a body without the field
   * (written by hand or by another tool) gets today's default.
   */
  private static MissedRuns missedRuns(JsonNode o) {
    JsonNode n = o.get("missedRuns");
    return n == null || n.isNull() ? Schedule.DEFAULT_MISSED_RUNS : MissedRuns.parse(n.asText());
  }

  private static String text(JsonNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      throw new IllegalArgumentException("'" + field + "' is missing or not text");
    }
    return n.textValue();
  }

  private static void putInstant(ObjectNode o, String field, Instant value) {
    if (value != null) {
      o.put(field, value.toString());
    }
  }

  private static Instant instant(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n == null || n.isNull() ? null : Instant.parse(n.asText());
  }
}
