package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.num;

import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import dev.errand.wire.Wire;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Task statuses on Redis: one string key per task ({@code PREFIX:r:{ID}}, so results spread over a
 * Cluster), set with a Redis expiry and also carrying its expiry for the backend's clock. Storing a
 * ready status publishes it on the task's channel, which wakes {@link #whenReady} waiters at once.
 * Revocations are one sorted set scored by expiry, trimmed on every revoke. Statuses are indexed
 * for {@link #search} and {@link #count} by {@link TaskIndex}, in the same pipeline. Thread-safe.
 */
public final class RedisResultStore implements ResultStore {

  /** Keys per {@code MGET} in {@link #getAll}. */
  private static final int READ_BATCH = 500;

  private final Redis redis;
  private final Keys keys;
  private final RedisClock clock;
  private final Notifier notifier;
  private final Revocations revocations;
  private final TaskIndex index;

  public RedisResultStore(Redis redis, Keys keys, RedisClock clock, Notifier notifier) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.notifier = notifier;
    this.revocations = new Revocations(redis, keys, clock, notifier);
    this.index = new TaskIndex(redis, keys, clock);
    notifier.onReconnect(
        id -> get(id).filter(s -> s.state().isReady()).ifPresent(s -> notifier.complete(id, s)));
  }

  @Override
  public void put(TaskStatus status, Duration ttl) {
    putAll(List.of(status), ttl);
  }

  @Override
  public void putAll(List<TaskStatus> statuses, Duration ttl) {
    if (statuses.isEmpty()) {
      return;
    }
    List<CompletableFuture<?>> sent = sendAll(statuses, ttl);
    for (CompletableFuture<?> f : sent) {
      redis.await(f, "store task status");
    }
  }

  /**
   * Sends the writes of {@code statuses} (pipelined, one channel write) and returns their futures:
   * each status's SET, one index update for them all, then the PUBLISHes of the ready ones (so a
   * waiter woken by one finds it indexed too).
   */
  public List<CompletableFuture<?>> sendAll(List<TaskStatus> statuses, Duration ttl) {
    long now = clock.millis();
    long expiresAt = now + ttl.toMillis();
    long px = Math.max(1, ttl.toMillis());
    Batch batch = redis.batch(statuses.size() * 2 + 1);
    List<CompletableFuture<?>> sent = new ArrayList<>(statuses.size() * 2 + 1);
    byte[][] values = new byte[statuses.size()][];
    for (int i = 0; i < values.length; i++) {
      TaskStatus s = statuses.get(i);
      values[i] = Codec.withExpiry(expiresAt, Wire.encodeStatus(s));
      sent.add(batch.setPx(keys.result(s.id()), values[i], px));
    }
    sent.add(index.send(batch, statuses, expiresAt, now));
    for (int i = 0; i < values.length; i++) {
      TaskStatus s = statuses.get(i);
      if (s.state().isReady()) {
        sent.add(batch.publish(keys.doneChannel(s.id()), values[i]));
      }
    }
    batch.send();
    return sent;
  }

  @Override
  public Optional<TaskStatus> get(String taskId) {
    byte[] value = redis.await(redis.async().get(keys.result(taskId)), "read task status");
    if (value == null || Codec.expiresAt(value) <= clock.millis()) {
      return Optional.empty();
    }
    return Optional.of(Codec.decodeResult(value));
  }

  /**
   * Reads the statuses with {@code MGET}s of {@value #READ_BATCH} keys, all sent before the first
   * reply is awaited: one round trip however many ids, and one command per batch rather than one
   * per id (a chord's callback reads 10,000 at once; per-command costs, in Lettuce and in Redis,
   * were most of the time). On Redis Cluster (issue 20), Lettuce's cluster client splits an {@code
   * MGET} by slot itself.
   */
  @Override
  public Map<String, TaskStatus> getAll(Collection<String> taskIds) {
    return read(taskIds, false);
  }

  @Override
  public Map<String, TaskStatus> getOutcomes(Collection<String> taskIds) {
    return read(taskIds, true);
  }

  private Map<String, TaskStatus> read(Collection<String> taskIds, boolean outcomes) {
    List<String> ids = List.copyOf(taskIds);
    List<CompletableFuture<List<KeyValue<String, byte[]>>>> batches =
        new ArrayList<>(ids.size() / READ_BATCH + 1);
    for (int from = 0; from < ids.size(); from += READ_BATCH) {
      int to = Math.min(ids.size(), from + READ_BATCH);
      String[] keyBatch = new String[to - from];
      for (int i = from; i < to; i++) {
        keyBatch[i - from] = keys.result(ids.get(i));
      }
      batches.add(redis.async().mget(keyBatch).toCompletableFuture());
    }
    Map<String, TaskStatus> found = new LinkedHashMap<>(ids.size() * 2);
    long now = -1;
    int i = 0;
    for (CompletableFuture<List<KeyValue<String, byte[]>>> batch : batches) {
      List<KeyValue<String, byte[]>> values = redis.await(batch, "read task statuses");
      if (now < 0) {
        now = clock.millis(); // as get(): expiry is judged once the values are read
      }
      for (KeyValue<String, byte[]> kv : values) {
        String id = ids.get(i++);
        byte[] value = kv.getValueOrElse(null);
        if (value != null && Codec.expiresAt(value) > now) {
          found.putIfAbsent(id, outcomes ? Codec.decodeOutcome(value) : Codec.decodeResult(value));
        }
      }
    }
    return found;
  }

  @Override
  public TaskPage search(TaskQuery query) {
    return index.search(Objects.requireNonNull(query, "query"));
  }

  @Override
  public long count(TaskQuery query) {
    return index.count(Objects.requireNonNull(query, "query"));
  }

  @Override
  public long[] countByTime(TaskQuery query, TimeBuckets buckets) {
    return index.countByTime(
        Objects.requireNonNull(query, "query"), Objects.requireNonNull(buckets, "buckets"));
  }

  @Override
  public CompletableFuture<TaskStatus> whenReady(String taskId) {
    return notifier.whenReady(taskId, this::get);
  }

  @Override
  public void revoke(String taskId, Duration ttl) {
    revocations.revoke(taskId, ttl);
  }

  @Override
  public void revokeAll(Collection<String> taskIds, Duration ttl) {
    revocations.revokeAll(taskIds, ttl);
  }

  @Override
  public Set<String> revoked(Collection<String> taskIds) {
    return taskIds.isEmpty() ? Set.of() : revocations.revoked(taskIds);
  }

  @Override
  public boolean claimOnce(String key, Duration ttl) {
    Long got =
        redis.await(
            Script.ONCE.run(
                redis.async(),
                ScriptOutputType.INTEGER,
                new String[] {keys.once(key)},
                clock.scriptNow(),
                num(ttl.toMillis())),
            "claim once");
    return got == 1L;
  }
}
