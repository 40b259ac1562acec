package dev.errand.scheduler.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.scheduler.Schedule;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

/** Sends the task of a schedule: for a tick, with the tick's idempotency key; or on demand. */
public final class Firing {

  /** Header naming the schedule that sent a task. */
  public static final String SCHEDULE_HEADER = "errand-schedule";

  /** Header holding the tick (ISO-8601 instant) a scheduled task was sent for. */
  public static final String TICK_HEADER = "errand-schedule-tick";

  /**
   * How long a tick's key deduplicates: a day. Only a leader frozen between planning a tick and
   * enqueuing it can send a tick the state already records, so the window need only outlast such a
   * freeze; longer would keep a key per tick (86,400 a day for an every-second schedule) for
   * nothing.
   */
  static final Duration KEY_WINDOW = TaskOptions.DEFAULT_IDEMPOTENCY_WINDOW;

  private static final int MAX_KEY_LENGTH = 200;

  private Firing() {}

  /** Enqueues tick {@code tick} of {@code s}; a repeat returns the first task's id. */
  public static String fireTick(Client client, Schedule s, Instant tick) {
    TaskOptions.Builder o =
        options(s)
            .idempotencyKey(tickKey(s.name(), tick))
            .idempotencyWindow(KEY_WINDOW)
            .header(TICK_HEADER, tick.toString());
    if (s.expires() != null) {
      o.expiresAt(tick.plus(s.expires()));
    }
    return client.send(s.task(), s.args(), s.kwargs(), o.build()).id();
  }

  /** Enqueues {@code s}'s task now, outside its ticks. */
  public static AsyncResult<JsonNode> runNow(Client client, Schedule s) {
    TaskOptions.Builder o = options(s);
    if (s.expires() != null) {
      o.expires(s.expires());
    }
    return client.send(s.task(), s.args(), s.kwargs(), o.build());
  }

  /** The idempotency key of a tick: the schedule's name and the tick, the same in every process. */
  static String tickKey(String name, Instant tick) {
    String key = "beat:" + name + "@" + tick;
    if (key.length() <= MAX_KEY_LENGTH) {
      return key;
    }
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      return "beat:" + HexFormat.of().formatHex(d) + "@" + tick;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static TaskOptions.Builder options(Schedule s) {
    TaskOptions.Builder o = TaskOptions.builder().header(SCHEDULE_HEADER, s.name());
    if (s.queue() != null) {
      o.queue(s.queue());
    }
    if (s.priority() != null) {
      o.priority(s.priority());
    }
    return o;
  }
}
