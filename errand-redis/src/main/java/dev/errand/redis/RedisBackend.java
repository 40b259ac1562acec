package dev.errand.redis;

import dev.errand.TaskStatus;
import dev.errand.redis.internal.Keys;
import dev.errand.redis.internal.Notifier;
import dev.errand.redis.internal.Redis;
import dev.errand.redis.internal.RedisBroker;
import dev.errand.redis.internal.RedisClock;
import dev.errand.redis.internal.RedisDeadLetters;
import dev.errand.redis.internal.RedisEvents;
import dev.errand.redis.internal.RedisResultStore;
import dev.errand.redis.internal.RedisSchedules;
import dev.errand.redis.internal.RedisUrl;
import dev.errand.redis.internal.RedisWorkers;
import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.WorkerRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The distributed backend: broker, results, dead letters, events, worker heartbeats and schedules
 * on Redis 6.2+ (standalone or Sentinel; the key layout is Cluster-ready), through Lettuce.
 *
 * <pre>{@code
 * try (Backend backend = RedisBackend.open("redis://127.0.0.1:6379/0?prefix=shop")) {
 *   Client client = Client.builder(backend).build();
 *   ...
 * }
 * }</pre>
 *
 * <p>URL: {@code redis://[user:password@]host[:port][/db]}, {@code rediss://...} for TLS, or {@code
 * redis-sentinel://[password@]host1[:port1][,host2[:port2]][/db]#masterName}; query parameters
 * {@code prefix} (key prefix, default {@code errand}; apps that share a Redis use different
 * prefixes), {@code timeout} (command timeout, default 10 s) and {@code events} (event log
 * capacity, default 10,000). Every key and its lifetime are listed in {@code docs/redis.md}.
 *
 * <p>Opened with the system clock ({@link #open(String)}), the backend runs on <em>server
 * time</em>: lease deadlines, delays, expiry, reaping and the scheduler's leadership are decided by
 * Redis's {@code TIME} inside the scripts, so a host whose clock is wrong can neither take over a
 * running task nor run a delayed one early; {@link #clock()} is this process's clock corrected by
 * its measured offset to Redis's (a WARN names both clocks when they are more than a second apart).
 * Opened with another clock (tests), that clock decides everything. One instance per process is
 * enough: it is thread-safe and all threads share its connection.
 */
public final class RedisBackend implements Backend {

  private final Redis redis;
  private final Notifier notifier;
  private final RedisBroker broker;
  private final RedisResultStore results;
  private final RedisDeadLetters deadLetters;
  private final RedisEvents events;
  private final RedisWorkers workers;
  private final RedisSchedules schedules;
  private final RedisClock clock;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RedisBackend(RedisUrl url, Clock given, boolean serverTime, Duration refresh) {
    Keys keys = new Keys(url.prefix());
    this.redis = Redis.connect(url);
    try {
      this.clock = serverTime ? RedisClock.server(redis, given, refresh) : RedisClock.given(given);
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
    this.notifier = new Notifier(redis, keys);
    this.deadLetters = new RedisDeadLetters(redis, keys);
    this.broker = new RedisBroker(redis, keys, clock, notifier, deadLetters);
    this.results = new RedisResultStore(redis, keys, clock, notifier);
    this.events = new RedisEvents(redis, keys, url.eventCapacity());
    this.workers = new RedisWorkers(redis, keys, clock);
    this.schedules = new RedisSchedules(redis, keys, clock, notifier);
  }

  /**
   * Connects to the Redis at {@code url}, on server time (Redis's clock decides).
   *
   * @throws IllegalArgumentException naming the URL when it is malformed
   * @throws dev.errand.BackendException naming the server when it cannot be reached
   */
  public static RedisBackend open(String url) {
    return open(url, Clock.systemUTC());
  }

  /**
   * Like {@link #open(String)}. With the system clock (in any zone) Redis's clock decides; with any
   * other clock (tests) every time is taken from {@code clock}.
   */
  public static RedisBackend open(String url, Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return new RedisBackend(
        RedisUrl.parse(url), clock, BackendProvider.isSystemClock(clock), RedisClock.REFRESH);
  }

  /**
   * Server time with {@code local} standing for this process's clock, its offset measured every
   * {@code refresh}: for tests that play a host whose clock is wrong.
   */
  static RedisBackend openOnServerTime(String url, Clock local, Duration refresh) {
    return new RedisBackend(RedisUrl.parse(url), local, true, refresh);
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return results;
  }

  @Override
  public DeadLetterStore deadLetters() {
    return deadLetters;
  }

  @Override
  public EventStore events() {
    return events;
  }

  @Override
  public WorkerRegistry workers() {
    return workers;
  }

  @Override
  public ScheduleStore schedules() {
    return schedules;
  }

  /**
   * In server time, this process's clock corrected by its offset to Redis's {@code TIME} (measured
   * at connect and every 30 s); else the clock the backend was opened with.
   */
  @Override
  public Clock clock() {
    return clock;
  }

  /**
   * How far Redis's clock is ahead of this process's, in ms, as last measured (negative: behind); 0
   * unless on server time.
   */
  public long clockOffsetMillis() {
    return clock.offsetMillis();
  }

  /**
   * Writes all statuses and their index update (pipelined, one script call for the index), waits
   * until Redis has them, then acks all deliveries (pipelined, one script per queue): two round
   * trips for a whole batch of outcomes.
   */
  @Override
  public Set<String> storeAndAck(List<TaskStatus> statuses, Duration ttl, List<Delivery> acks) {
    if (!statuses.isEmpty()) {
      List<CompletableFuture<?>> sent = results.sendAll(statuses, ttl);
      for (CompletableFuture<?> f : sent) {
        redis.await(f, "store task status");
      }
    }
    return acks.isEmpty() ? Set.of() : broker.ackAll(acks);
  }

  /** The key prefix this backend uses. */
  public String prefix() {
    return redis.url().prefix();
  }

  @Override
  public String describe() {
    return redis.url().display();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        notifier.close();
      } finally {
        redis.close();
      }
    }
  }

  @Override
  public String toString() {
    return "RedisBackend[" + describe() + "]";
  }
}
