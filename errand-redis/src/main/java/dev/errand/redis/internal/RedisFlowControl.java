package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.number;
import static dev.errand.redis.internal.RedisBroker.text;

import dev.errand.spi.FlowLimit;
import dev.errand.spi.LimitStats;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The broker's flow control on Redis outside the claim path: pausing and resuming a queue, and
 * reading its limit keys ({@code limits.lua} holds the rest, inside the queue scripts).
 * Thread-safe.
 */
final class RedisFlowControl {

  private final Redis redis;
  private final Keys keys;
  private final RedisClock clock;

  RedisFlowControl(Redis redis, Keys keys, RedisClock clock) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
  }

  /** A limit as the scripts store it: {@code permits,periodMs,burst,concurrency,key}. */
  static byte[] limitSpec(FlowLimit l) {
    return bytes(
        l.permits()
            + ","
            + l.periodMillis()
            + ","
            + l.burst()
            + ","
            + l.concurrency()
            + ","
            + l.key());
  }

  /** Busiest limit key first (running and waiting), then by key. */
  static final java.util.Comparator<LimitStats> BUSIEST_FIRST =
      java.util.Comparator.comparingLong((LimitStats s) -> -(s.running() + s.waiting()))
          .thenComparing(s -> s.limit().key());

  /** See {@link dev.errand.spi.Broker#limits}. */
  List<LimitStats> limits(String queue, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0 but was " + max);
    }
    Keys.QueueKeys qk = keys.queue(queue);
    List<Object> flat =
        redis.await(
            Script.LIMITS_READ.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {qk.ready()},
                clock.scriptNow(),
                num(max)),
            "read limits");
    List<LimitStats> out = new ArrayList<>(flat.size() / 8);
    for (int i = 0; i + 7 < flat.size(); i += 8) {
      int permits = (int) number(flat.get(i + 1));
      int burst = (int) number(flat.get(i + 3));
      double tat = Double.parseDouble(text(flat.get(i + 5)));
      long periodMs = number(flat.get(i + 2));
      FlowLimit limit =
          new FlowLimit(text(flat.get(i)), permits, periodMs, burst, (int) number(flat.get(i + 4)));
      Instant next =
          permits == 0
              ? null
              : Instant.ofEpochMilli((long) Math.ceil(tat - limit.intervalMillis() * (burst - 1)));
      out.add(new LimitStats(limit, number(flat.get(i + 6)), number(flat.get(i + 7)), next));
    }
    out.sort(BUSIEST_FIRST);
    return out;
  }

  /**
   * See {@link dev.errand.spi.Broker#pause}: the flag of each of the queue's physical queues
   * (shards), which is what claims read, in each one's slot; then the lists of paused and known
   * queues.
   */
  void pause(String queue, List<String> physical) {
    RedisClusterAsyncCommands<String, byte[]> cmd = redis.async();
    List<RedisFuture<?>> sent = new ArrayList<>();
    for (String p : physical) {
      sent.add(cmd.set(keys.queue(p).paused(), bytes("1")));
    }
    sent.add(cmd.sadd(keys.pausedQueues(), bytes(queue)));
    sent.add(cmd.zadd(keys.queues(), clock.millis(), bytes(queue)));
    for (RedisFuture<?> f : sent) {
      redis.await(f, "pause queue");
    }
  }

  /** See {@link dev.errand.spi.Broker#resume}; the caller wakes this process's claims. */
  void resume(String queue, List<String> physical) {
    RedisClusterAsyncCommands<String, byte[]> cmd = redis.async();
    List<RedisFuture<?>> sent = new ArrayList<>();
    for (String p : physical) {
      sent.add(cmd.del(keys.queue(p).paused()));
    }
    sent.add(cmd.srem(keys.pausedQueues(), bytes(queue)));
    // Consumers parked on the queue claim at once, in every process.
    for (String p : physical) {
      sent.add(cmd.publish(keys.queue(p).wakeChannel(), new byte[0]));
    }
    for (RedisFuture<?> f : sent) {
      redis.await(f, "resume queue");
    }
  }

  /** See {@link dev.errand.spi.Broker#pausedQueues}. */
  List<String> pausedQueues() {
    List<String> out = new ArrayList<>();
    for (byte[] q : redis.await(redis.async().smembers(keys.pausedQueues()), "paused queues")) {
      out.add(new String(q, StandardCharsets.UTF_8));
    }
    out.sort(null);
    return out;
  }
}
