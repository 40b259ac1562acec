package dev.errand.redis.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The Redis of the tests (errand-redis and errand-cli): a server this JVM starts for itself, or the
 * one {@value #ENV} names.
 *
 * <p>Without {@value #ENV}, the first call of {@link #url()} starts a {@link RedisServerProcess}
 * (the {@link RedisBinary#find() bundled redis-server}, else the {@code PATH}'s) on a free port,
 * shared by every test of the JVM and stopped when it exits. With {@value #ENV} set ({@code
 * redis://host:port/db}), the tests use that server instead, e.g. the machine's own Redis on CI.
 * Either way each test works under a key prefix of its own ({@link #newPrefix()}) and deletes its
 * keys, and no server-wide command (CLIENT PAUSE, SCRIPT FLUSH, FLUSHDB...) is ever sent to it: a
 * test that needs one starts a {@link #startPrivate() private server} of its own.
 *
 * <p>Prints one line saying which server the tests use. Thread-safe.
 */
public final class TestRedis {

  /**
   * The environment variable naming an existing server for the tests: {@code redis://host:port/db}.
   */
  public static final String ENV = "ERRAND_TEST_REDIS";

  private static String url;

  private TestRedis() {}

  /**
   * The URL of the tests' server ({@value #ENV}, or the one this JVM started on first call),
   * without a prefix.
   */
  public static synchronized String url() {
    if (url == null) {
      String given = System.getenv(ENV);
      if (given != null && !given.isBlank()) {
        url = given.strip();
        String version = redis(r -> infoField(r.info("server"), "redis_version"));
        say("the Redis tests use " + ENV + "=" + masked(url) + " (Redis " + version + ")");
      } else {
        RedisServerProcess server = RedisServerProcess.start(RedisBinary.find());
        // Stopped by its own shutdown hook when the JVM exits.
        url = server.url();
        say(
            "the Redis tests use "
                + server
                + ", started for this test JVM ("
                + ENV
                + "=redis://host:port/db to use another)");
      }
    }
    return url;
  }

  /** The URL of the tests' server with {@code prefix} as the backend's key prefix. */
  public static String url(String prefix) {
    return url(prefix, "");
  }

  /** The URL of the tests' server with {@code prefix} and further query parameters. */
  public static String url(String prefix, String extra) {
    String base = url();
    return base
        + (base.contains("?") ? "&" : "?")
        + "prefix="
        + prefix
        + (extra.isEmpty() ? "" : "&" + extra);
  }

  /** A prefix no other test and no other run uses. */
  public static String newPrefix() {
    return "errand-it-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * A new server of the caller's own, for a test that runs server-wide commands. Also started when
   * {@value #ENV} names a server, which such commands would disturb. Close it when done.
   */
  public static RedisServerProcess startPrivate() {
    return RedisServerProcess.start(RedisBinary.find());
  }

  /** Runs {@code work} with a plain connection to the tests' server. */
  public static void withRedis(Consumer<RedisCommands<String, String>> work) {
    redis(
        r -> {
          work.accept(r);
          return null;
        });
  }

  /** Runs {@code work} with a plain connection to the tests' server, and returns its result. */
  public static <T> T redis(Function<RedisCommands<String, String>, T> work) {
    return redis(url(), work);
  }

  /** Runs {@code work} with a plain connection to the server at {@code url}. */
  public static <T> T redis(String url, Function<RedisCommands<String, String>, T> work) {
    RedisClient client = RedisClient.create(url);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return work.apply(c.sync());
    } finally {
      client.shutdown();
    }
  }

  /** Deletes every key under {@code prefix} on the tests' server. */
  public static void deleteKeys(String prefix) {
    withRedis(
        redis -> {
          List<String> batch = new ArrayList<>();
          ScanIterator<String> it =
              ScanIterator.scan(redis, ScanArgs.Builder.matches(prefix + ":*").limit(1000));
          while (it.hasNext()) {
            batch.add(it.next());
            if (batch.size() == 500) {
              redis.unlink(batch.toArray(String[]::new));
              batch.clear();
            }
          }
          if (!batch.isEmpty()) {
            redis.unlink(batch.toArray(String[]::new));
          }
        });
  }

  /** How many keys exist under {@code prefix} on the tests' server. */
  public static long countKeys(String prefix) {
    return redis(
        redis -> {
          long n = 0;
          ScanIterator<String> it =
              ScanIterator.scan(redis, ScanArgs.Builder.matches(prefix + ":*").limit(1000));
          while (it.hasNext()) {
            it.next();
            n++;
          }
          return n;
        });
  }

  private static String infoField(String info, String field) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1).strip();
      }
    }
    return "?";
  }

  /** The URL without its password. */
  private static String masked(String url) {
    return url.replaceFirst("//[^@/]*@", "//***@");
  }

  // One line in the build's output (Maven shows what a test JVM prints), whatever the logging
  // configuration of the module that runs the tests.
  private static void say(String line) {
    System.out.println("[errand-test] " + line);
  }
}
