package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.num;

import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.wire.Wire;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Task statuses on Redis: one string key per task ({@code PREFIX:r:{ID}}, so results spread over a
 * Cluster), set with a Redis expiry and also carrying its expiry for the backend's clock. Storing a
 * ready status publishes it on the task's channel, which wakes {@link #whenReady} waiters at once.
 * Revocations are one sorted set scored by expiry, trimmed on every revoke. Thread-safe.
 */
public final class RedisResultStore implements ResultStore {

  private final Redis redis;
  private final Keys keys;
  private final Clock clock;
  private final Notifier notifier;
  private final Revocations revocations;

  public RedisResultStore(Redis redis, Keys keys, Clock clock, Notifier notifier) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.notifier = notifier;
    this.revocations = new Revocations(redis, keys, clock, notifier);
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

  /** Sends the writes of {@code statuses} (pipelined) and returns their futures. */
  public List<CompletableFuture<?>> sendAll(List<TaskStatus> statuses, Duration ttl) {
    long expiresAt = clock.millis() + ttl.toMillis();
    long px = Math.max(1, ttl.toMillis());
    Batch batch = redis.batch(statuses.size() * 2);
    List<CompletableFuture<?>> sent = new ArrayList<>(statuses.size() * 2);
    for (TaskStatus s : statuses) {
      byte[] value = Codec.withExpiry(expiresAt, Wire.encodeStatus(s));
      sent.add(batch.setPx(keys.result(s.id()), value, px));
      if (s.state().isReady()) {
        sent.add(batch.publish(keys.doneChannel(s.id()), value));
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

  @Override
  public CompletableFuture<TaskStatus> whenReady(String taskId) {
    CompletableFuture<TaskStatus> future = new CompletableFuture<>();
    // Subscribe first, then look: a status stored in between is published after we listen.
    notifier.waitFor(taskId, future);
    try {
      get(taskId).filter(s -> s.state().isReady()).ifPresent(future::complete);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  @Override
  public void revoke(String taskId, Duration ttl) {
    revocations.revoke(taskId, ttl);
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
                num(clock.millis()),
                num(ttl.toMillis())),
            "claim once");
    return got == 1L;
  }
}
