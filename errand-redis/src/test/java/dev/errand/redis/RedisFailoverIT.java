package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.BackendUnavailableException;
import dev.errand.Client;
import dev.errand.redis.testing.RedisClusterProcess;
import dev.errand.redis.testing.RedisSentinelProcess;
import dev.errand.redis.testing.RedisServerProcess;
import dev.errand.redis.testing.TestRedis;
import dev.errand.redis.testing.TestRedisCluster;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A master SIGKILLed mid-drain, on Redis Cluster (3 masters, 2 replicas each) and on Sentinel
 * (master, 2 replicas, three Sentinels), for each durability setting ({@link FailoverDrill}): the
 * replica is promoted and producer and worker carry on by themselves. With {@code
 * durability=replica} no acknowledged task is lost; with {@code none} a write the master
 * acknowledged just before dying may be, and the counts are printed for docs/scaling.md. Tasks may
 * run twice either way (a lease or an ending the dead master had not yet replicated).
 */
class RedisFailoverIT {

  static final int TASKS = 1_500;

  /**
   * On a cluster, a command already queued for the dead master waits for the command timeout
   * (default 10 s) before it fails and the next one goes to the promoted replica: 3 s bounds the
   * recovery (docs/scaling.md).
   */
  static final String TIMEOUT = "timeout=3s";

  /**
   * A key of the default queue: its hash tag, {@code {default}}, names the slot, and so the master,
   * that holds the queue whatever the prefix.
   */
  static final String DEFAULT_QUEUE_KEY = "q:{default}:ready";

  @ParameterizedTest(name = "durability={0}")
  @ValueSource(strings = {"none", "replica"})
  void aClusterMasterKilledMidDrain(String durability) throws Exception {
    try (RedisClusterProcess cluster = RedisClusterProcess.start(3, 2)) {
      String url =
          TestRedisCluster.url(
              cluster, TestRedis.newPrefix(), "durability=" + durability + "&" + TIMEOUT);
      // The queue's master: the one holding the slot of its keys.
      int victim = cluster.masterIndexOf(DEFAULT_QUEUE_KEY);
      FailoverDrill.Outcome o = FailoverDrill.run(url, TASKS, () -> cluster.kill(victim));
      FailoverDrill.report("Redis Cluster, durability=" + durability, o);
      check(durability, o);
    }
  }

  @ParameterizedTest(name = "durability={0}")
  @ValueSource(strings = {"none", "replica"})
  void aSentinelMasterKilledMidDrain(String durability) throws Exception {
    try (RedisSentinelProcess redis = RedisSentinelProcess.start()) {
      String url =
          redis.url(
              "prefix=" + TestRedis.newPrefix() + "&durability=" + durability + "&" + TIMEOUT);
      FailoverDrill.Outcome o = FailoverDrill.run(url, TASKS, redis::killMaster);
      FailoverDrill.report("Sentinel, durability=" + durability, o);
      check(durability, o);
    }
  }

  /**
   * With the replica frozen ({@code SIGSTOP}), an enqueue under {@code durability=replica} fails
   * and says why, rather than returning as if the task were safe. It also proves the WAIT runs on
   * the connection that wrote (per master on a cluster): on any other connection WAIT would have no
   * writes to wait for and return at once.
   */
  @Test
  void aClusterEnqueueThatNoReplicaAcknowledgesFailsAndSaysSo() {
    try (RedisClusterProcess cluster = RedisClusterProcess.start(3)) {
      String url =
          TestRedisCluster.url(
              cluster, TestRedis.newPrefix(), "durability=replica&durability_timeout=300ms");
      int master = cluster.masterIndexOf(DEFAULT_QUEUE_KEY);
      refusedWhileFrozen(url, List.of(cluster.replicaOf(master)));
    }
  }

  /** {@link #aClusterEnqueueThatNoReplicaAcknowledgesFailsAndSaysSo}, with Sentinel. */
  @Test
  void aSentinelEnqueueThatNoReplicaAcknowledgesFailsAndSaysSo() {
    try (RedisSentinelProcess redis = RedisSentinelProcess.start()) {
      String url =
          redis.url(
              "prefix=" + TestRedis.newPrefix() + "&durability=replica&durability_timeout=300ms");
      refusedWhileFrozen(url, redis.replicas());
    }
  }

  private static void refusedWhileFrozen(String url, List<RedisServerProcess> replicas) {
    try (RedisBackend backend = RedisBackend.open(url)) {
      Client client = Client.create(backend);
      assertThat(client.enqueue(FailoverDrill.RECORD, 1).id()).isNotBlank();
      replicas.forEach(r -> r.freeze(true));
      try {
        assertThatThrownBy(() -> client.enqueue(FailoverDrill.RECORD, 2))
            .isInstanceOf(BackendUnavailableException.class)
            .hasMessageContaining("acknowledged by 0 of 1 replica(s) within 300 ms");
      } finally {
        replicas.forEach(r -> r.freeze(false));
      }
      // Thawed, the replica catches up and enqueues are acknowledged again.
      assertThat(client.enqueue(FailoverDrill.RECORD, 3).id()).isNotBlank();
    }
  }

  private static void check(String durability, FailoverDrill.Outcome o) {
    assertThat(o.acknowledged()).as("most enqueues succeed").isGreaterThan(TASKS / 2);
    assertThat(o.recoveredAfterMillis()).as("the path works again after the kill").isPositive();
    if (durability.equals("replica")) {
      assertThat(o.lost()).as("acknowledged by a replica: never lost").isZero();
    }
  }
}
