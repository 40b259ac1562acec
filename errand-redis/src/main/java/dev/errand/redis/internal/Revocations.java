package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;

import io.lettuce.core.Range;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScoredValue;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which tasks are revoked, answered from memory: a worker asks for every batch it claims, and a
 * round trip each time would slow the hot path. The set is loaded once (after subscribing to the
 * revoke channel, so nothing published in between is missed) and kept current by the channel. When
 * a connection drops, messages may have been lost, so the next question loads it again. Revocations
 * are few and expire (default after a day), so the copy is small. Thread-safe.
 */
final class Revocations {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Revocations.class);

  private final Redis redis;
  private final Keys keys;
  private final Clock clock;
  private final Notifier notifier;
  private final Map<String, Long> expiries = new ConcurrentHashMap<>();
  private volatile boolean current;
  private final Object loadLock = new Object();

  Revocations(Redis redis, Keys keys, Clock clock, Notifier notifier) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.notifier = notifier;
    notifier.onDisconnect(() -> current = false);
  }

  /** Marks {@code taskId} revoked for {@code ttl}, here and in every listening process. */
  void revoke(String taskId, Duration ttl) {
    revokeAll(List.of(taskId), ttl);
  }

  /**
   * Marks each of {@code taskIds} revoked for {@code ttl}, pipelined: one {@code ZADD} per thousand
   * ids, one trim, and one notice per id on the channel (the format every listening process reads).
   */
  void revokeAll(Collection<String> taskIds, Duration ttl) {
    if (taskIds.isEmpty()) {
      return;
    }
    long now = clock.millis();
    long expires = now + ttl.toMillis();
    var cmd = redis.async();
    List<RedisFuture<?>> sent = new ArrayList<>(taskIds.size() + 2);
    List<String> ids = List.copyOf(taskIds);
    for (int from = 0; from < ids.size(); from += 1_000) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 1_000));
      Object[] scored = new Object[chunk.size() * 2];
      for (int i = 0; i < chunk.size(); i++) {
        scored[2 * i] = (double) expires;
        scored[2 * i + 1] = bytes(chunk.get(i));
      }
      sent.add(cmd.zadd(keys.revoked(), scored));
    }
    sent.add(
        cmd.zremrangebyscore(keys.revoked(), Range.create(Double.NEGATIVE_INFINITY, (double) now)));
    for (String id : ids) {
      sent.add(cmd.publish(keys.revokeChannel(), bytes(expires + " " + id)));
    }
    for (RedisFuture<?> f : sent) {
      redis.await(f, "revoke");
    }
    for (String id : ids) {
      expiries.put(id, expires);
    }
  }

  /**
   * Which of {@code taskIds} are revoked now. While Redis cannot be reached the last known copy
   * answers: a revocation is advisory for queued work, and failing here would hold back tasks that
   * were already claimed.
   */
  Set<String> revoked(Collection<String> taskIds) {
    if (!current) {
      try {
        load();
      } catch (RuntimeException e) {
        log.warn("cannot load revocations, using the last known ones: {}", e.getMessage());
      }
    }
    long now = clock.millis();
    Set<String> out = new HashSet<>();
    for (String id : taskIds) {
      Long expires = expiries.get(id);
      if (expires != null && expires > now) {
        out.add(id);
      }
    }
    return out;
  }

  private void load() {
    synchronized (loadLock) {
      if (current) {
        return;
      }
      notifier.listen(keys.revokeChannel(), this::heard);
      long now = clock.millis();
      var all =
          redis.await(
              redis
                  .async()
                  .zrangebyscoreWithScores(
                      keys.revoked(), Range.create((double) now, Double.POSITIVE_INFINITY)),
              "load revocations");
      expiries.values().removeIf(e -> e <= now);
      for (ScoredValue<byte[]> v : all) {
        expiries.merge(
            new String(v.getValue(), StandardCharsets.UTF_8), (long) v.getScore(), Math::max);
      }
      current = true;
    }
  }

  private void heard(byte[] message) {
    String m = new String(message, StandardCharsets.UTF_8);
    int space = m.indexOf(' ');
    if (space > 0) {
      expiries.merge(m.substring(space + 1), Long.parseLong(m.substring(0, space)), Math::max);
    }
  }
}
