package dev.errand.redis;

import dev.errand.BackendException;
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
import dev.errand.redis.internal.RedisWorkflowStore;
import dev.errand.redis.internal.Settler;
import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.SettleFaults;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkerRegistry;
import dev.errand.spi.WorkflowStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The distributed backend: broker, results, dead letters, events, worker heartbeats, schedules,
 * groups and chords on Redis 6.2+ (standalone or Sentinel; the key layout is Cluster-ready),
 * through Lettuce.
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
 *
 * <p>{@link #settle} applies a batch of settlements with one Lua script call: each settlement's
 * receipt check, dead letter, statuses, ending, follow-up messages and chord part together. That
 * script touches keys in several hash slots, which standalone and Sentinel Redis allow; on Redis
 * Cluster (not supported yet) follow-ups will go through an outbox in the step's own slot.
 */
public final class RedisBackend implements Backend, SettleFaults {

  private final Redis redis;
  private final Notifier notifier;
  private final RedisBroker broker;
  private final RedisResultStore results;
  private final RedisDeadLetters deadLetters;
  private final RedisEvents events;
  private final RedisWorkers workers;
  private final RedisSchedules schedules;
  private final RedisWorkflowStore workflows;
  private final Settler settler;
  private final AtomicReference<Settlement.Step> fault = new AtomicReference<>();
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
    this.workflows = new RedisWorkflowStore(redis, keys, clock, broker::physicalFor);
    this.settler = new Settler(redis, keys, clock, notifier, broker, results, deadLetters);
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

  @Override
  public WorkflowStore workflows() {
    return workflows;
  }

  /**
   * Applies the batch with one Lua script call (chunks of 256 settlements for a larger batch, all
   * sent before the first reply is awaited). Per settlement the script checks the receipt against
   * the message's metadata, then writes the dead letter, the statuses (with a Redis expiry of
   * {@code ttl}) and their index update, the delivery's ending, the follow-ups (an id already in
   * its queue, or whose idempotency key is held, is not enqueued again) and the chord part, and
   * publishes the wake-ups and the ready statuses. It reads and checks the whole call before its
   * first write, so a call that fails applies nothing.
   */
  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    Settlement.Step failAfter = fault.getAndSet(null);
    Set<String> stale = settler.settle(batch, ttl, failAfter);
    if (failAfter == Settlement.Step.COMMITTED && !batch.isEmpty()) {
      throw new BackendException("injected failure after COMMITTED (reply lost)", null);
    }
    return stale;
  }

  /**
   * Makes the next {@link #settle} fail after {@code step} (tests): before {@link
   * Settlement.Step#COMMITTED} its script raises an error once the first settlement whose receipt
   * is current has planned that step, before anything of the batch is written; at {@code COMMITTED}
   * the batch is applied and then the call throws, as if the reply were lost.
   */
  @Override
  public void failNextSettleAfter(Settlement.Step step) {
    fault.set(Objects.requireNonNull(step, "step"));
  }

  /** Redis Cluster, tests: the next settle dies after ending its deliveries (see SlotSettler). */
  void dieAfterEndings() {
    settler.dieAfterEndings();
  }

  /** Redis Cluster, tests: applies outbox entries older than {@code grace} now. */
  void sweepOutboxes(Duration grace) {
    settler.sweepOutboxes(grace);
  }

  /** The connection, for the Celery layer on the same Redis. */
  Redis redis() {
    return redis;
  }

  /** The backend's clock as the scripts need it. */
  RedisClock redisClock() {
    return clock;
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
        settler.close();
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
