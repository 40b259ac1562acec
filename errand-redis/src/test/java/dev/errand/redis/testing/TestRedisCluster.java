package dev.errand.redis.testing;

import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The Redis Cluster shared by the tests of one JVM that need a healthy cluster (three masters,
 * three replicas: {@link RedisClusterProcess}), started on first use and stopped when the JVM
 * exits. Tests that kill nodes start a cluster of their own. Each test works under a key prefix of
 * its own. Thread-safe.
 */
public final class TestRedisCluster {

  private static RedisClusterProcess cluster;

  private TestRedisCluster() {}

  /** The shared cluster, started on first call. */
  public static synchronized RedisClusterProcess cluster() {
    if (cluster == null) {
      RedisClusterProcess started = RedisClusterProcess.start(3);
      Runtime.getRuntime().addShutdownHook(new Thread(started::close, "test-cluster-stop"));
      cluster = started;
      System.out.println(
          "[errand-test] the Redis Cluster tests use a cluster of 3 masters and 3 replicas at "
              + started.seeds()
              + " (Redis "
              + RedisBinary.find().version()
              + "), started for this test JVM");
    }
    return cluster;
  }

  /** {@code redis-cluster://seeds?prefix=prefix&extra}. */
  public static String url(String prefix, String extra) {
    return url(cluster(), prefix, extra);
  }

  /** The URL of {@code cluster} with {@code prefix} and further query parameters. */
  public static String url(RedisClusterProcess cluster, String prefix, String extra) {
    return "redis-cluster://"
        + cluster.seeds()
        + "?prefix="
        + prefix
        + (extra.isEmpty() ? "" : "&" + extra);
  }

  /** Runs {@code work} with a cluster connection to {@code cluster}. */
  public static <T> T redis(
      RedisClusterProcess cluster, Function<RedisAdvancedClusterCommands<String, String>, T> work) {
    List<RedisURI> seeds =
        cluster.nodes().stream()
            .map(n -> RedisURI.create("redis://" + n.address()))
            .collect(Collectors.toList());
    RedisClusterClient client = RedisClusterClient.create(seeds);
    try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
      return work.apply(c.sync());
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  /** Deletes every key under {@code prefix}, on every master of the shared cluster. */
  public static void deleteKeys(String prefix) {
    redis(
        cluster(),
        r -> {
          ScanIterator<String> it =
              ScanIterator.scan(r, ScanArgs.Builder.matches(prefix + ":*").limit(1000));
          while (it.hasNext()) {
            r.unlink(it.next());
          }
          return null;
        });
  }
}
