package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.number;

import dev.errand.Event;
import dev.errand.spi.EventStore;
import dev.errand.wire.Wire;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The event log on Redis: a stream capped at its capacity. To keep a busy worker's event traffic to
 * one command per batch, one stream entry holds up to {@value #ENTRY_EVENTS} events (JSON lines)
 * and its id is the sequence number of its first event; reads split entries back into events and
 * hide those older than the capacity. Thread-safe.
 */
public final class RedisEvents implements EventStore {

  /** The most events in one stream entry: {@value}. */
  static final int ENTRY_EVENTS = 256;

  private final Redis redis;
  private final Keys keys;
  private final int capacity;

  public RedisEvents(Redis redis, Keys keys, int capacity) {
    this.redis = redis;
    this.keys = keys;
    this.capacity = capacity;
  }

  @Override
  public void publish(List<Event> events) {
    if (events.isEmpty()) {
      return;
    }
    List<java.util.concurrent.CompletableFuture<Object>> calls = new ArrayList<>();
    for (int from = 0; from < events.size(); from += ENTRY_EVENTS) {
      int to = Math.min(events.size(), from + ENTRY_EVENTS);
      calls.add(
          Script.EVENTS_PUBLISH.run(
              redis.async(),
              ScriptOutputType.INTEGER,
              new String[] {keys.events(), keys.eventSeq()},
              num(capacity),
              num(to - from),
              Wire.encodeEventLines(events, from, to),
              num(ENTRY_EVENTS)));
    }
    for (var c : calls) {
      redis.await(c, "publish events");
    }
  }

  @Override
  public List<Event> read(long afterSeq, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
    }
    if (limit == 0) {
      return List.of();
    }
    List<Object> r =
        redis.await(
            Script.EVENTS_READ.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {keys.events(), keys.eventSeq()},
                num(Math.max(afterSeq, 0)),
                num(limit)),
            "read events");
    long floor = number(r.get(0)) - capacity; // events at or below are past the capacity
    long after = Math.max(afterSeq, floor);
    List<Event> out = new ArrayList<>();
    for (int part = 1; part <= 2; part++) {
      for (Object entry : (List<?>) r.get(part)) {
        for (Event e : decode(entry)) {
          if (e.seq() > after && out.size() < limit) {
            out.add(e);
          }
        }
      }
    }
    return out;
  }

  @Override
  public List<Event> latest(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
    }
    if (limit == 0) {
      return List.of();
    }
    byte[] lastValue = redis.await(redis.async().get(keys.eventSeq()), "read events");
    long floor = (lastValue == null ? 0 : Long.parseLong(new String(lastValue))) - capacity;
    var entries =
        redis.await(
            redis
                .async()
                .xrevrange(
                    keys.events(),
                    io.lettuce.core.Range.create("-", "+"),
                    io.lettuce.core.Limit.from(limit)),
            "read events");
    List<Event> out = new ArrayList<>();
    for (var m : entries) {
      List<Event> in = decode(m.getId(), m.getBody());
      for (int i = in.size() - 1; i >= 0 && out.size() < limit; i--) {
        if (in.get(i).seq() > floor) {
          out.add(in.get(i));
        }
      }
    }
    return out;
  }

  /** A raw entry from a script: [id, [field, value, ...]]. */
  private static List<Event> decode(Object entry) {
    List<?> e = (List<?>) entry;
    String id = RedisBroker.text(e.get(0));
    List<?> fields = (List<?>) e.get(1);
    byte[] lines = null;
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      if ("e".equals(RedisBroker.text(fields.get(i)))) {
        lines = (byte[]) fields.get(i + 1);
      }
    }
    return split(id, lines);
  }

  private static List<Event> decode(String id, Map<String, byte[]> body) {
    return split(id, body.get("e"));
  }

  private static List<Event> split(String id, byte[] lines) {
    if (lines == null) {
      return List.of();
    }
    long seq = Long.parseLong(id.substring(0, id.indexOf('-')));
    List<Event> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= lines.length; i++) {
      if (i == lines.length || lines[i] == '\n') {
        out.add(Wire.decodeEvent(Arrays.copyOfRange(lines, start, i)).withSeq(seq++));
        start = i + 1;
      }
    }
    return out;
  }
}
