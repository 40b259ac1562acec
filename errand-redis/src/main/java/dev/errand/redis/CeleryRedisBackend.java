package dev.errand.redis;

import dev.errand.redis.internal.CeleryBroker;
import dev.errand.redis.internal.CeleryResults;
import dev.errand.redis.internal.CelerySettler;
import dev.errand.redis.internal.CeleryUrl;
import dev.errand.redis.internal.Keys;
import dev.errand.spi.Broker;
import dev.errand.spi.ForwardingBackend;
import dev.errand.spi.ResultStore;
import dev.errand.spi.Settlement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Errand on a Celery fleet's Redis: tasks travel in Celery's message format (protocol 2) on kombu's
 * queue layout, and results are written where Celery clients read them, so Java and Python
 * producers and workers share queues in both directions.
 *
 * <pre>{@code
 * try (Backend backend = CeleryRedisBackend.open("celery+redis://127.0.0.1:6379/0")) {
 *   Client client = Client.create(backend);
 *   JsonNode sum = client.send("proj.tasks.add", args, kwargs, TaskOptions.none()).get(...);
 * }
 * }</pre>
 *
 * <p>The broker ({@code LPUSH} to {@code queue}, {@code queue\x06\x163/6/9} by priority, {@code
 * unacked} while held) and the result records ({@code celery-task-meta-<id>}) are Celery's;
 * everything Celery has no place for (dead letters, events, worker heartbeats, schedules, Errand's
 * own searchable copy of each status) is Errand's Redis backend on the same server, under its
 * {@code prefix}. What maps to what, and where Errand's guarantees go further than kombu's, is in
 * {@code docs/celery.md}.
 *
 * <p>URL: {@code celery+redis://[user:password@]host[:port][/db]} ({@code celery+rediss://} for
 * TLS, {@code celery+redis-sentinel://} for Sentinel) with the query parameters of {@link
 * RedisBackend} and {@code visibility_timeout} (default 3600 s, kombu's), {@code result_expires}
 * (default 86400 s, Celery's), {@code default_queue} (default {@code celery}), {@code poll} (the
 * longest idle pause of a claim, default 50 ms) and {@code restore_unacked} (default true). The
 * database number must be the Celery app's. Thread-safe; one instance per process.
 */
public final class CeleryRedisBackend extends ForwardingBackend {

  private final RedisBackend redis;
  private final CeleryUrl url;
  private final CeleryBroker broker;
  private final CeleryResults results;
  private final CelerySettler settler;
  private final AtomicBoolean closed = new AtomicBoolean();

  private CeleryRedisBackend(RedisBackend redis, CeleryUrl url) {
    super(redis);
    this.redis = redis;
    this.url = url;
    this.broker =
        new CeleryBroker(
            redis.redis(), redis.redisClock(), url, redis.prefix(), redis.deadLetters());
    this.results =
        new CeleryResults(redis.redis(), new Keys(redis.prefix()), redis.results(), broker, url);
    broker.onFirstClaim(results::listenForRevokes);
    this.settler = new CelerySettler(redis.redis(), redis.redisClock(), url, broker, redis);
  }

  /**
   * Connects to the Celery fleet's Redis at {@code url}, on server time.
   *
   * @throws IllegalArgumentException naming the URL parameter and value when it is malformed
   * @throws dev.errand.BackendException naming the server when it cannot be reached
   */
  public static CeleryRedisBackend open(String url) {
    return open(url, Clock.systemUTC());
  }

  /** Like {@link #open(String)}; any clock but the system clock decides every time (tests). */
  public static CeleryRedisBackend open(String url, Clock clock) {
    Objects.requireNonNull(clock, "clock");
    CeleryUrl parsed = CeleryUrl.parse(url);
    RedisBackend redis = RedisBackend.open(parsed.redisUrl(), clock);
    try {
      return new CeleryRedisBackend(redis, parsed);
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  /** Whether {@code url} is one this backend opens ({@code celery+redis://...}). */
  public static boolean supports(String scheme) {
    return CeleryUrl.SCHEMES.contains(scheme);
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return results;
  }

  /**
   * Applies settlements: dead letters first (a crash then redelivers rather than loses), then in
   * one script per batch each settlement's receipt check, ending, Celery result records and
   * follow-up messages (the canvas of Celery messages included), then Errand's copies of the
   * statuses of the settlements whose receipt was current.
   */
  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    return settler.settle(batch, ttl);
  }

  @Override
  public String describe() {
    return "celery+" + redis.describe();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        broker.close();
        results.close();
      } finally {
        redis.close();
      }
    }
  }

  @Override
  public String toString() {
    return "CeleryRedisBackend[" + describe() + "]";
  }
}
