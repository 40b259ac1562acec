package dev.errand.redis.internal;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code celery+redis://} (or {@code celery+rediss://}, {@code celery+redis-sentinel://}) URL:
 * the Redis URL Errand would take, plus the Celery settings both sides must agree on.
 *
 * <ul>
 *   <li>{@code visibility_timeout}: kombu's, default 3600 s. A message a Celery worker holds longer
 *       is restored by Errand as kombu would (Java workers' own holds go back when their lease
 *       ends).
 *   <li>{@code result_expires}: how long Celery result records are kept, default 86400 s (Celery's
 *       {@code result_expires}); 0 keeps them forever.
 *   <li>{@code default_queue}: where canvas steps without a queue go, default {@code celery}
 *       (Celery's {@code task_default_queue}).
 *   <li>{@code poll}: the longest pause of an idle claim between looks, default 50 ms (Python
 *       producers announce nothing; Errand's producers wake claims in their process at once).
 *   <li>{@code restore_unacked}: whether Errand restores what crashed Celery workers left in {@code
 *       unacked}, default true.
 *   <li>{@code track_started}: whether a STARTED record is written for Celery clients when a Java
 *       worker starts a task, default false (Celery's {@code task_track_started}); Errand's own
 *       copy of the status always has it.
 * </ul>
 *
 * Durations are seconds ({@code 3600}) or {@code 50ms}, {@code 30s}, {@code 2m}, {@code 1h}.
 *
 * @param redisUrl the URL the Redis connection is opened with
 * @param visibilityTimeout kombu's visibility timeout
 * @param resultExpires how long result records live; zero for ever
 * @param defaultQueue the queue of canvas steps that name none
 * @param pollInterval the longest idle pause of a claim
 * @param restoreUnacked whether abandoned Celery holds are restored
 * @param trackStarted whether STARTED is written to Celery's result records
 */
public record CeleryUrl(
    String redisUrl,
    Duration visibilityTimeout,
    Duration resultExpires,
    String defaultQueue,
    Duration pollInterval,
    boolean restoreUnacked,
    boolean trackStarted) {

  /** The URL schemes this reads. */
  public static final List<String> SCHEMES =
      List.of("celery+redis", "celery+rediss", "celery+redis-sentinel");

  /**
   * Parses {@code url}.
   *
   * @throws IllegalArgumentException naming the parameter and the value
   */
  public static CeleryUrl parse(String url) {
    if (!url.startsWith("celery+")) {
      throw new IllegalArgumentException(
          "not a Celery URL: '"
              + RedisUrl.redact(url)
              + "' (expected celery+redis://host:port/db)");
    }
    String rest = url.substring("celery+".length());
    Duration visibility = Duration.ofHours(1);
    Duration expires = Duration.ofDays(1);
    String defaultQueue = "celery";
    Duration poll = Duration.ofMillis(50);
    boolean restore = true;
    boolean trackStarted = false;
    RedisUrl.Query query =
        RedisUrl.Query.take(
            rest,
            Set.of(
                "visibility_timeout",
                "result_expires",
                "poll",
                "default_queue",
                "restore_unacked",
                "track_started"));
    for (Map.Entry<String, String> p : query.taken().entrySet()) {
      String name = p.getKey();
      String value = p.getValue();
      switch (name) {
        case "visibility_timeout" -> visibility = duration(url, name, value, false);
        case "result_expires" -> expires = duration(url, name, value, true);
        case "poll" -> poll = duration(url, name, value, false);
        case "default_queue" -> {
          if (value.isEmpty()) {
            throw bad(url, name, value, "a queue name");
          }
          defaultQueue = value;
        }
        case "restore_unacked" -> restore = bool(url, name, value);
        default -> trackStarted = bool(url, name, value);
      }
    }
    String redisUrl = query.rest();
    // validates the rest, naming what is wrong
    if (RedisUrl.parse(redisUrl).durability().waits()) {
      throw new IllegalArgumentException(
          "Celery URL '"
              + RedisUrl.redact(url)
              + "': durability is not supported on a Celery fleet's Redis (celery+redis://);"
              + " it applies to Errand's own layout (redis://, redis-cluster://)");
    }
    return new CeleryUrl(redisUrl, visibility, expires, defaultQueue, poll, restore, trackStarted);
  }

  private static boolean bool(String url, String name, String value) {
    if (!value.equals("true") && !value.equals("false")) {
      throw bad(url, name, value, "true or false");
    }
    return value.equals("true");
  }

  /** Seconds, as kombu and Celery write them ({@code 3600}), or {@code 50ms}, {@code 30s}... */
  private static Duration duration(String url, String name, String value, boolean zeroOk) {
    Duration d;
    try {
      d =
          value.strip().matches("\\d+")
              ? Duration.ofSeconds(Long.parseLong(value.strip()))
              : RedisUrl.parseShort(value);
    } catch (RuntimeException e) {
      throw bad(url, name, value, "a duration like 3600, 30s or 50ms");
    }
    if (d.isNegative() || (!zeroOk && d.isZero())) {
      throw bad(url, name, value, zeroOk ? "a duration >= 0" : "a duration > 0");
    }
    return d;
  }

  private static IllegalArgumentException bad(String url, String name, String value, String want) {
    return new IllegalArgumentException(
        "'"
            + RedisUrl.redact(url)
            + "': parameter "
            + name
            + "="
            + value
            + " is not valid (expected "
            + want
            + ")");
  }
}
