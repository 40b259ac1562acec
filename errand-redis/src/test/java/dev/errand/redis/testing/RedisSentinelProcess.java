package dev.errand.redis.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/**
 * A Sentinel-managed Redis the tests start from their own {@code redis-server}: a master, two
 * replicas and three Sentinels (quorum 2) monitoring it as {@value #MASTER}, with a down-after of
 * one second, so that a killed master is replaced within a few seconds, and the new master still
 * has a replica (what {@code durability=replica} needs to go on writing). Thread-safe.
 */
public final class RedisSentinelProcess implements AutoCloseable {

  /** The name the Sentinels monitor the master under. */
  public static final String MASTER = "errand-test";

  private final RedisServerProcess master;
  private final List<RedisServerProcess> replicas;
  private final List<RedisServerProcess> sentinels;

  private RedisSentinelProcess(
      RedisServerProcess master,
      List<RedisServerProcess> replicas,
      List<RedisServerProcess> sentinels) {
    this.master = master;
    this.replicas = replicas;
    this.sentinels = sentinels;
  }

  /** Starts the master, its replicas and three Sentinels; returns once they all see each other. */
  public static RedisSentinelProcess start() {
    RedisBinary binary = RedisBinary.find();
    RedisServerProcess master = RedisServerProcess.start(binary);
    List<RedisServerProcess> started = new ArrayList<>(List.of(master));
    try {
      List<RedisServerProcess> replicas = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        RedisServerProcess replica =
            RedisServerProcess.start(
                binary, List.of("--replicaof", RedisServerProcess.HOST, "" + master.port()));
        replicas.add(replica);
        started.add(replica);
      }
      String config =
          String.join(
              "\n",
              "sentinel monitor "
                  + MASTER
                  + " "
                  + RedisServerProcess.HOST
                  + " "
                  + master.port()
                  + " 2",
              "sentinel down-after-milliseconds " + MASTER + " 1000",
              "sentinel failover-timeout " + MASTER + " 5000",
              "sentinel parallel-syncs " + MASTER + " 1",
              "");
      List<RedisServerProcess> sentinels = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RedisServerProcess s = RedisServerProcess.start(binary, config, List.of("--sentinel"));
        sentinels.add(s);
        started.add(s);
      }
      RedisSentinelProcess all = new RedisSentinelProcess(master, replicas, sentinels);
      all.awaitOrDescribe(
          "the replicas in sync and every Sentinel seeing them and the two others",
          () ->
              replicas.stream()
                      .allMatch(
                          r ->
                              RedisClusterProcess.on(r, c -> c.info("replication"))
                                  .contains("master_link_status:up"))
                  && sentinels.stream()
                      .allMatch(
                          s ->
                              RedisClusterProcess.on(
                                  s,
                                  r -> {
                                    String info = r.info("sentinel");
                                    return info.contains("slaves=2")
                                        && info.contains("sentinels=3");
                                  })));
      return all;
    } catch (RuntimeException e) {
      started.forEach(RedisServerProcess::close);
      throw e;
    }
  }

  /** {@code redis-sentinel://s1,s2,s3/0?query#MASTER}: what a backend connects to. */
  public String url(String query) {
    return "redis-sentinel://"
        + sentinels.stream().map(RedisServerProcess::address).collect(Collectors.joining(","))
        + "/0"
        + (query.isEmpty() ? "" : "?" + query)
        + "#"
        + MASTER;
  }

  public RedisServerProcess master() {
    return master;
  }

  public List<RedisServerProcess> replicas() {
    return List.copyOf(replicas);
  }

  /** SIGKILLs the master: the Sentinels promote a replica after about a second. */
  public void killMaster() {
    master.kill();
  }

  /** Waits until the Sentinels all name a replica as the master, and it says it is one. */
  public void awaitFailover() {
    await(
        "a replica promoted",
        () ->
            replicas.stream()
                .anyMatch(
                    replica ->
                        RedisClusterProcess.on(replica, r -> r.info("replication"))
                                .contains("role:master")
                            && sentinels.stream()
                                .allMatch(
                                    s ->
                                        RedisClusterProcess.on(s, r -> r.info("sentinel"))
                                            .contains(":" + replica.port() + ","))));
  }

  /** {@link #await}, failing with what each node reports. */
  private void awaitOrDescribe(String what, java.util.function.BooleanSupplier done) {
    try {
      await(what, done);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      StringBuilder state = new StringBuilder(e.getMessage());
      try {
        state.append("\nnow: ").append(done.getAsBoolean());
      } catch (RuntimeException x) {
        state.append("\nnow: ").append(x);
      }
      for (RedisServerProcess n : replicas) {
        state
            .append("\nreplica ")
            .append(n.address())
            .append(": ")
            .append(describe(n, "replication"));
      }
      for (RedisServerProcess n : sentinels) {
        state
            .append("\nsentinel ")
            .append(n.address())
            .append(": ")
            .append(describe(n, "sentinel"));
      }
      throw new IllegalStateException(state.toString(), e);
    }
  }

  private static String describe(RedisServerProcess node, String section) {
    try {
      return RedisClusterProcess.on(node, r -> r.info(section)).replace("\r\n", " | ");
    } catch (RuntimeException e) {
      return e.toString();
    }
  }

  private static void await(String what, java.util.function.BooleanSupplier done) {
    Awaitility.await("the test Sentinels: " + what)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(done::getAsBoolean);
  }

  @Override
  public void close() {
    sentinels.forEach(RedisServerProcess::close);
    replicas.forEach(RedisServerProcess::close);
    master.close();
  }
}
