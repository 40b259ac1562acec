package dev.errand.redis.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The test cluster of issue 20's tests: three masters and three replicas from the tests' own {@code
 * redis-server}; a write waited for by a replica survives its master's SIGKILL.
 */
class RedisClusterProcessIT {

  @Test
  void threeMastersThreeReplicasAndAFailoverThatKeepsWhatAReplicaAcknowledged() {
    try (RedisClusterProcess cluster = RedisClusterProcess.start(3)) {
      String nodes = RedisClusterProcess.on(cluster.masters().get(0), r -> r.clusterNodes());
      assertThat(nodes.lines().filter(l -> l.contains("master"))).hasSize(3);
      assertThat(nodes.lines().filter(l -> l.contains("slave"))).hasSize(3);

      List<RedisURI> seeds =
          cluster.nodes().stream()
              .map(n -> RedisURI.create("redis://" + n.address()))
              .collect(Collectors.toList());
      RedisClusterClient client = RedisClusterClient.create(seeds);
      try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
        RedisAdvancedClusterCommands<String, String> r = c.sync();
        for (int i = 0; i < 300; i++) {
          r.set("k" + i, "v" + i);
        }
        // the key of master 0's first slot range, acknowledged by its replica before the kill
        String key = "{k0}";
        r.set(key, "kept");
        assertThat(
                c.getConnection(
                        "127.0.0.1", cluster.masters().get(slotOwner(cluster, r, key)).port())
                    .sync()
                    .waitForReplication(1, 2_000))
            .isEqualTo(1);
        int owner = slotOwner(cluster, r, key);
        cluster.kill(owner);
        cluster.awaitFailover(owner);
        String value =
            RedisClusterProcess.on(
                cluster.replicaOf(owner), n -> n.get(key)); // the promoted replica holds it
        assertThat(value).isEqualTo("kept");
      } finally {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    }
  }

  private static int slotOwner(
      RedisClusterProcess cluster, RedisAdvancedClusterCommands<String, String> r, String key) {
    long slot = r.clusterKeyslot(key);
    int per = 16_384 / cluster.masters().size();
    return (int) Math.min(slot / per, cluster.masters().size() - 1);
  }
}
