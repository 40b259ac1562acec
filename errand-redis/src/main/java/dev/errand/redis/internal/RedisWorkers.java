package dev.errand.redis.internal;

import dev.errand.WorkerInfo;
import dev.errand.spi.WorkerRegistry;
import dev.errand.wire.Wire;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Worker heartbeats on Redis: one hash, a field per worker carrying its expiry. Reading the live
 * workers also deletes the expired ones, so the hash stays as small as the fleet. Thread-safe.
 */
public final class RedisWorkers implements WorkerRegistry {

  private static final long FORGET_AFTER_MS = 60_000;

  private final Redis redis;
  private final Keys keys;
  private final Clock clock;

  public RedisWorkers(Redis redis, Keys keys, Clock clock) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
  }

  @Override
  public void heartbeat(WorkerInfo info, Duration ttl) {
    byte[] value = Codec.withExpiry(clock.millis() + ttl.toMillis(), Wire.encodeWorker(info));
    redis.await(redis.async().hset(keys.workers(), info.name(), value), "heartbeat");
  }

  @Override
  public List<WorkerInfo> live() {
    Map<String, byte[]> all = redis.await(redis.async().hgetall(keys.workers()), "list workers");
    long now = clock.millis();
    List<WorkerInfo> out = new ArrayList<>();
    List<String> expired = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : all.entrySet()) {
      if (Codec.expiresAt(e.getValue()) > now) {
        out.add(Wire.decodeWorker(Codec.payload(e.getValue())));
      } else if (Codec.expiresAt(e.getValue()) < now - FORGET_AFTER_MS) {
        // Long expired: forget it. (Not at once: another host's clock may run a little behind.)
        expired.add(e.getKey());
      }
    }
    if (!expired.isEmpty()) {
      redis.async().hdel(keys.workers(), expired.toArray(String[]::new));
    }
    out.sort(Comparator.comparing(WorkerInfo::name));
    return out;
  }

  @Override
  public void remove(String workerName) {
    redis.await(redis.async().hdel(keys.workers(), workerName), "remove worker");
  }
}
