package dev.errand.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The test Redis (ERRAND_TEST_REDIS, default redis://127.0.0.1:6379/9: a database of their own) and
 * key clean-up.
 */
final class RedisTestSupport {

  static final String SERVER =
      System.getenv().getOrDefault("ERRAND_TEST_REDIS", "redis://127.0.0.1:6379/9");

  private RedisTestSupport() {}

  /** A prefix no other test run uses. */
  static String newPrefix() {
    return "errand-it-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** The backend URL for {@code prefix}, with extra query parameters. */
  static String url(String prefix, String extra) {
    return SERVER + "?prefix=" + prefix + (extra.isEmpty() ? "" : "&" + extra);
  }

  /** Runs {@code work} with a plain connection to the test server. */
  static void withRedis(Consumer<RedisCommands<String, String>> work) {
    RedisClient client = RedisClient.create(SERVER);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      work.accept(c.sync());
    } finally {
      client.shutdown();
    }
  }

  /** Deletes every key under {@code prefix}. */
  static void deleteKeys(String prefix) {
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

  /** How many keys exist under {@code prefix}. */
  static long countKeys(String prefix) {
    long[] n = {0};
    withRedis(
        redis -> {
          ScanIterator<String> it =
              ScanIterator.scan(redis, ScanArgs.Builder.matches(prefix + ":*").limit(1000));
          while (it.hasNext()) {
            it.next();
            n[0]++;
          }
        });
    return n[0];
  }
}
