package dev.errand.cli.internal.bench;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A key prefix of {@code errand bench-search}'s own on a Redis, and the deletion of every key under
 * it. The SPI has no way to delete stored statuses, so this talks to Redis through Lettuce
 * directly, on a connection of its own; it touches nothing outside its prefix. Thread-safe.
 */
public final class RedisScratch implements AutoCloseable {

  /** Errand's query parameters in a Redis URL, which Lettuce does not know. */
  private static final List<String> ERRAND_PARAMETERS = List.of("prefix", "timeout", "events");

  private final String url;
  private final String prefix;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private boolean deleted;

  private RedisScratch(String url, String prefix) {
    this.url = url;
    this.prefix = prefix;
    RedisURI uri = RedisURI.create(withoutErrandParameters(url));
    uri.setTimeout(Duration.ofSeconds(30));
    this.client = RedisClient.create(uri);
    try {
      this.connection = client.connect();
    } catch (RuntimeException e) {
      client.shutdown();
      throw e;
    }
  }

  /** Whether {@code url} names a Redis backend. */
  public static boolean isRedis(String url) {
    return url.startsWith("redis://")
        || url.startsWith("rediss://")
        || url.startsWith("redis-sentinel://");
  }

  /**
   * Connects to the Redis of {@code url} and picks a new prefix: the URL's own (default {@code
   * errand}) followed by {@code -bench-search-} and 8 random hex digits.
   */
  public static RedisScratch open(String url) {
    return open(url, "bench-search");
  }

  /**
   * Connects to the Redis of {@code url} and picks a new prefix: the URL's own (default {@code
   * errand}) followed by {@code -PURPOSE-} and 8 random hex digits.
   */
  public static RedisScratch open(String url, String purpose) {
    String given = parameter(url, "prefix");
    String base = given == null ? null : URLDecoder.decode(given, StandardCharsets.UTF_8);
    String prefix =
        (base == null || base.isEmpty() ? "errand" : base)
            + "-"
            + purpose
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
    return new RedisScratch(withParameter(url, "prefix", prefix), prefix);
  }

  /** The backend URL with the bench's own prefix. */
  public String url() {
    return url;
  }

  /** The bench's own key prefix. */
  public String prefix() {
    return prefix;
  }

  /** Plain commands on the scratch's own connection (keep to keys under {@link #prefix()}). */
  public RedisCommands<String, String> commands() {
    return connection.sync();
  }

  /** Redis's {@code used_memory} in bytes (all keys of the server, not only the bench's). */
  public long usedMemory() {
    String v = info("memory", "used_memory");
    return v == null ? -1 : Long.parseLong(v);
  }

  /**
   * The CPU time the Redis server has used since it started ({@code used_cpu_user} plus {@code
   * used_cpu_sys}: all of it, not only for the bench's keys), in seconds; NaN if it does not say.
   */
  public double serverCpuSeconds() {
    String user = info("cpu", "used_cpu_user");
    String sys = info("cpu", "used_cpu_sys");
    return user == null || sys == null
        ? Double.NaN
        : Double.parseDouble(user) + Double.parseDouble(sys);
  }

  /**
   * Commands the Redis server has processed since it started ({@code total_commands_processed}: all
   * of them, not only the bench's, so measure on a Redis of its own); -1 if it does not say.
   */
  public long commandsProcessed() {
    String v = info("stats", "total_commands_processed");
    return v == null ? -1 : Long.parseLong(v);
  }

  /**
   * Script calls (EVALSHA and EVAL) the Redis server has taken since it started: one round trip
   * each, with what the script does inside it; all clients', so measure on a Redis of its own.
   */
  public long scriptCalls() {
    long n = 0;
    for (String line : connection.sync().info("commandstats").split("\\r?\\n")) {
      if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
        int at = line.indexOf("calls=") + 6;
        int end = line.indexOf(',', at);
        n += Long.parseLong(line.substring(at, end < 0 ? line.length() : end));
      }
    }
    return n;
  }

  /** The value of {@code field} in {@code INFO section}, or null if there is none. */
  private String info(String section, String field) {
    String prefix = field + ":";
    for (String line : connection.sync().info(section).split("\r?\n")) {
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length()).trim();
      }
    }
    return null;
  }

  /**
   * Deletes every key under the prefix (SCAN and UNLINK, a thousand at a time); a second call does
   * nothing. Returns how many were deleted.
   */
  public synchronized long deleteKeys() {
    if (deleted) {
      return 0;
    }
    RedisCommands<String, String> redis = connection.sync();
    ScanArgs args = ScanArgs.Builder.matches(prefix + ":*").limit(1000);
    long n = 0;
    KeyScanCursor<String> cursor = redis.scan(args);
    while (true) {
      if (!cursor.getKeys().isEmpty()) {
        n += redis.unlink(cursor.getKeys().toArray(new String[0]));
      }
      if (cursor.isFinished()) {
        break;
      }
      cursor = redis.scan(cursor, args);
    }
    deleted = true;
    return n;
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown();
  }

  /** The value of query parameter {@code name} of {@code url}, or null. */
  static String parameter(String url, String name) {
    for (String pair : query(url)) {
      if (pair.startsWith(name + "=")) {
        return pair.substring(name.length() + 1);
      }
    }
    return null;
  }

  /** {@code url} with query parameter {@code name} set to {@code value} (a URL-safe value). */
  static String withParameter(String url, String name, String value) {
    List<String> pairs = new ArrayList<>();
    for (String pair : query(url)) {
      if (!pair.equals(name) && !pair.startsWith(name + "=")) {
        pairs.add(pair);
      }
    }
    pairs.add(name + "=" + value);
    return rebuild(url, pairs);
  }

  /** {@code url} without Errand's own query parameters, for Lettuce. */
  static String withoutErrandParameters(String url) {
    List<String> pairs = new ArrayList<>();
    for (String pair : query(url)) {
      String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
      if (!ERRAND_PARAMETERS.contains(name)) {
        pairs.add(pair);
      }
    }
    return rebuild(url, pairs);
  }

  /** The query's {@code name=value} pairs (a sentinel URL's {@code #master} is not part of it). */
  private static List<String> query(String url) {
    String base = withoutFragment(url);
    int q = base.indexOf('?');
    List<String> pairs = new ArrayList<>();
    if (q >= 0) {
      for (String pair : base.substring(q + 1).split("&")) {
        if (!pair.isEmpty()) {
          pairs.add(pair);
        }
      }
    }
    return pairs;
  }

  private static String rebuild(String url, List<String> pairs) {
    String base = withoutFragment(url);
    int q = base.indexOf('?');
    String path = q < 0 ? base : base.substring(0, q);
    String fragment = url.substring(base.length());
    return path + (pairs.isEmpty() ? "" : "?" + String.join("&", pairs)) + fragment;
  }

  private static String withoutFragment(String url) {
    int hash = url.indexOf('#');
    return hash < 0 ? url : url.substring(0, hash);
  }
}
