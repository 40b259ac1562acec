package dev.errand.redis.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/**
 * A local Redis Cluster this JVM started: three masters, each with one replica, every node a {@link
 * RedisServerProcess} (in memory, 127.0.0.1, free ports), joined with {@code CLUSTER MEET}, the
 * 16,384 slots split in three ranges, replicas attached with {@code CLUSTER REPLICATE}. Made
 * without {@code redis-cli --cluster}, so the bundled Redis 6.2 binary is enough. {@link #close()}
 * stops every node. A test may kill a master ({@link #kill}) and wait for its replica to take over.
 * Thread-safe.
 */
public final class RedisClusterProcess implements AutoCloseable {

  /** Node timeout: how long a master may be silent before its replica is promoted. */
  public static final Duration NODE_TIMEOUT = Duration.ofSeconds(2);

  private static final int SLOTS = 16_384;

  private final List<RedisServerProcess> masters;
  private final List<RedisServerProcess> replicas;

  private RedisClusterProcess(List<RedisServerProcess> masters, List<RedisServerProcess> replicas) {
    this.masters = masters;
    this.replicas = replicas;
  }

  /**
   * Starts a cluster of {@code masterCount} masters with one replica each, and returns once every
   * node reports {@code cluster_state:ok} and knows every other.
   */
  public static RedisClusterProcess start(int masterCount) {
    return start(masterCount, 1);
  }

  /**
   * Starts a cluster of {@code masterCount} masters with {@code replicasPerMaster} replicas each
   * (replica {@code j} follows master {@code j % masterCount}).
   */
  public static RedisClusterProcess start(int masterCount, int replicasPerMaster) {
    RedisBinary binary = RedisBinary.find();
    List<String> args =
        List.of(
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            Long.toString(NODE_TIMEOUT.toMillis()),
            "--cluster-require-full-coverage",
            "no");
    List<RedisServerProcess> masters = new ArrayList<>();
    List<RedisServerProcess> replicas = new ArrayList<>();
    try {
      for (int i = 0; i < masterCount; i++) {
        masters.add(RedisServerProcess.start(binary, args));
      }
      for (int j = 0; j < masterCount * replicasPerMaster; j++) {
        replicas.add(RedisServerProcess.start(binary, args));
      }
      RedisClusterProcess cluster = new RedisClusterProcess(masters, replicas);
      cluster.form();
      return cluster;
    } catch (RuntimeException e) {
      masters.forEach(RedisServerProcess::close);
      replicas.forEach(RedisServerProcess::close);
      throw e;
    }
  }

  private void form() {
    List<RedisServerProcess> all = nodes();
    RedisServerProcess first = all.get(0);
    for (RedisServerProcess n : all.subList(1, all.size())) {
      on(n, r -> r.clusterMeet("127.0.0.1", first.port()));
    }
    int per = SLOTS / masters.size();
    for (int i = 0; i < masters.size(); i++) {
      int from = i * per;
      int to = i == masters.size() - 1 ? SLOTS - 1 : from + per - 1;
      int[] slots = new int[to - from + 1];
      for (int s = 0; s < slots.length; s++) {
        slots[s] = from + s;
      }
      on(masters.get(i), r -> r.clusterAddSlots(slots));
    }
    awaitCondition(
        "every node knows every other",
        () ->
            all.stream().allMatch(n -> on(n, r -> r.clusterNodes().lines().count()) == all.size()));
    for (int j = 0; j < replicas.size(); j++) {
      String masterId = on(masters.get(j % masters.size()), RedisCommands::clusterMyId);
      RedisServerProcess replica = replicas.get(j);
      awaitCondition(
          "replica " + replica.address() + " knows its master",
          () -> on(replica, r -> r.clusterNodes().contains(masterId)));
      on(replica, r -> r.clusterReplicate(masterId));
    }
    awaitCondition(
        "cluster_state:ok on every node, every replica attached",
        () ->
            all.stream().allMatch(n -> on(n, r -> r.clusterInfo().contains("cluster_state:ok")))
                && on(first, r -> r.clusterNodes().lines().filter(l -> l.contains("slave")).count())
                    == replicas.size());
  }

  /** Every node, masters first. */
  public List<RedisServerProcess> nodes() {
    List<RedisServerProcess> all = new ArrayList<>(masters);
    all.addAll(replicas);
    return all;
  }

  /** The masters as started (one may have been killed since). */
  public List<RedisServerProcess> masters() {
    return List.copyOf(masters);
  }

  /** The replica started for master {@code i}. */
  public RedisServerProcess replicaOf(int i) {
    return replicas.get(i);
  }

  /** {@code 127.0.0.1:p1,127.0.0.1:p2,...}: every node, as a seed list. */
  public String seeds() {
    return nodes().stream().map(RedisServerProcess::address).collect(Collectors.joining(","));
  }

  /** The index of the master that holds {@code key}'s slot (as started: equal slot ranges). */
  public int masterIndexOf(String key) {
    int slot = io.lettuce.core.cluster.SlotHash.getSlot(key);
    return Math.min(slot / (SLOTS / masters.size()), masters.size() - 1);
  }

  /** SIGKILLs master {@code i}: its replica takes over after about {@link #NODE_TIMEOUT}. */
  public void kill(int i) {
    masters.get(i).kill();
  }

  /** Waits until the replica of master {@code i} says it is a master and the cluster is ok. */
  public void awaitFailover(int i) {
    RedisServerProcess replica = replicas.get(i);
    awaitCondition(
        "replica " + replica.address() + " promoted",
        () ->
            on(replica, r -> r.info("replication").contains("role:master"))
                && on(replica, r -> r.clusterInfo().contains("cluster_state:ok")));
  }

  /** Runs {@code work} on a plain connection to {@code node}. */
  public static <T> T on(RedisServerProcess node, Function<RedisCommands<String, String>, T> work) {
    RedisClient client = RedisClient.create("redis://" + node.address());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return work.apply(c.sync());
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  private static void awaitCondition(String what, java.util.function.BooleanSupplier done) {
    Awaitility.await("the test cluster: " + what)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions() // a node still starting, or just killed
        .until(done::getAsBoolean);
  }

  @Override
  public void close() {
    nodes().forEach(RedisServerProcess::close);
  }
}
