package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;

import dev.errand.DeadLetter;
import dev.errand.spi.DeadLetterStore;
import dev.errand.wire.Wire;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Dead letters on Redis: a hash of letters and sorted sets indexing them by time, overall and per
 * queue, all under the {@code {dead}} hash tag. They are kept until re-driven or discarded, like in
 * every backend. Thread-safe.
 */
public final class RedisDeadLetters implements DeadLetterStore {

  private final Redis redis;
  private final Keys keys;

  public RedisDeadLetters(Redis redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  @Override
  public void add(DeadLetter d) {
    redis.await(send(d), "add dead letter");
  }

  /** Sends the script call that adds {@code d}; the future completes with its reply. */
  java.util.concurrent.CompletableFuture<Long> send(DeadLetter d) {
    return Script.DEAD_ADD.run(
        redis.async(),
        ScriptOutputType.INTEGER,
        new String[] {
          keys.deadLetters(),
          keys.deadIndex(),
          keys.deadQueueIndex(d.queue()),
          keys.deadQueues(),
          keys.deadCounter()
        },
        bytes(d.id()),
        bytes(d.queue()),
        num(d.failedAt().toEpochMilli()),
        Wire.encodeDeadLetter(d),
        bytes(keys.deadQueueIndexPrefix()));
  }

  @Override
  public List<DeadLetter> list(String queue, int offset, int limit) {
    if (offset < 0 || limit < 0) {
      throw new IllegalArgumentException("offset and limit must be >= 0");
    }
    if (limit == 0) {
      return List.of();
    }
    String index = queue == null ? keys.deadIndex() : keys.deadQueueIndex(queue);
    List<byte[]> ids =
        redis.await(
            redis.async().zrevrange(index, offset, (long) offset + limit - 1), "list dead letters");
    if (ids.isEmpty()) {
      return List.of();
    }
    String[] fields = new String[ids.size()];
    for (int i = 0; i < ids.size(); i++) {
      fields[i] = new String(ids.get(i), StandardCharsets.UTF_8);
    }
    List<DeadLetter> out = new ArrayList<>(ids.size());
    for (var kv :
        redis.await(redis.async().hmget(keys.deadLetters(), fields), "list dead letters")) {
      if (kv.hasValue()) {
        out.add(Wire.decodeDeadLetter(kv.getValue()));
      }
    }
    return out;
  }

  @Override
  public Optional<DeadLetter> get(String id) {
    byte[] v = redis.await(redis.async().hget(keys.deadLetters(), id), "read dead letter");
    return v == null ? Optional.empty() : Optional.of(Wire.decodeDeadLetter(v));
  }

  @Override
  public boolean remove(String id) {
    Long n =
        redis.await(
            Script.DEAD_REMOVE.run(
                redis.async(),
                ScriptOutputType.INTEGER,
                new String[] {keys.deadLetters(), keys.deadIndex()},
                bytes(id),
                bytes(keys.deadQueueIndexPrefix())),
            "remove dead letter");
    return n == 1L;
  }

  @Override
  public long count(String queue) {
    String index = queue == null ? keys.deadIndex() : keys.deadQueueIndex(queue);
    return redis.await(redis.async().zcard(index), "count dead letters");
  }

  @Override
  public Map<String, Long> countByQueue() {
    List<Object> flat =
        redis.await(
            Script.DEAD_COUNTS.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {keys.deadQueues()},
                bytes(keys.deadQueueIndexPrefix())),
            "count dead letters by queue");
    Map<String, Long> out = new HashMap<>();
    for (int i = 0; i < flat.size(); i += 2) {
      out.put(RedisBroker.text(flat.get(i)), RedisBroker.number(flat.get(i + 1)));
    }
    return out;
  }
}
