package dev.errand.redis.internal;

import dev.errand.BackendException;
import dev.errand.BackendUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One Redis server, or one Redis Cluster, as the backend sees it: a command connection shared by
 * all threads (Lettuce pipelines the commands of concurrent callers on it), a client that
 * reconnects with backoff, and the conversion of failures into {@link BackendException}s that say
 * what was being done and where. Thread-safe.
 *
 * <p>On a cluster ({@link RedisUrl#cluster()}) the connection is Lettuce's cluster connection: each
 * command goes to the master of its key's slot, MOVED and ASK redirections are followed, and the
 * topology is refreshed every 30 s and at once after a redirection or a lost node. The command
 * interface is the one both connections share ({@link RedisClusterAsyncCommands}), so the stores
 * have one code path; what must differ on a cluster asks {@link #cluster()}.
 *
 * <p>Commands fail after the URL's timeout (default 10 s), also while the connection is down and
 * being re-established: a producer gets a clear exception after a bounded wait instead of hanging,
 * and a worker's fetch loop retries with backoff until Redis is back.
 */
public final class Redis implements AutoCloseable {

  /** Keys are strings, values bytes: bodies and statuses are stored as they are encoded. */
  public static final RedisCodec<String, byte[]> CODEC =
      RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

  private final RedisUrl url;
  private final ClientResources resources;
  private final AbstractRedisClient client;
  private final StatefulConnection<String, byte[]> connection;
  private final RedisClusterAsyncCommands<String, byte[]> async;
  private final StatefulConnection<String, byte[]> claimConnection;
  private final RedisClusterAsyncCommands<String, byte[]> claimAsync;

  private Redis(
      RedisUrl url,
      ClientResources resources,
      AbstractRedisClient client,
      StatefulConnection<String, byte[]> connection,
      StatefulConnection<String, byte[]> claimConnection) {
    this.url = url;
    this.resources = resources;
    this.client = client;
    this.connection = connection;
    this.async = commands(connection);
    this.claimConnection = claimConnection;
    this.claimAsync = commands(claimConnection);
  }

  private static RedisClusterAsyncCommands<String, byte[]> commands(
      StatefulConnection<String, byte[]> c) {
    return c instanceof StatefulRedisClusterConnection<String, byte[]> cluster
        ? cluster.async()
        : ((StatefulRedisConnection<String, byte[]>) c).async();
  }

  /**
   * Connects.
   *
   * @throws BackendException naming the server when it cannot be reached
   */
  public static Redis connect(RedisUrl url) {
    ClientResources resources =
        ClientResources.builder()
            // Reconnect quickly after a blip, and at least every 2 s during an outage.
            .reconnectDelay(
                Delay.exponential(
                    Duration.ofMillis(50), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
            .build();
    SocketOptions socket =
        SocketOptions.builder()
            .connectTimeout(url.timeout())
            .keepAlive(
                SocketOptions.KeepAliveOptions.builder()
                    .enable()
                    .idle(Duration.ofSeconds(15))
                    .interval(Duration.ofSeconds(5))
                    .count(3)
                    .build())
            .build();
    AbstractRedisClient client;
    if (url.cluster()) {
      RedisClusterClient cluster = RedisClusterClient.create(resources, url.clusterSeeds());
      cluster.setOptions(
          ClusterClientOptions.builder()
              .autoReconnect(true)
              .pingBeforeActivateConnection(true)
              .timeoutOptions(TimeoutOptions.enabled(url.timeout()))
              .socketOptions(socket)
              // A failover moves slots to a promoted replica: learn it from the first MOVED or
              // lost connection, not only from the periodic refresh.
              .topologyRefreshOptions(
                  ClusterTopologyRefreshOptions.builder()
                      .enablePeriodicRefresh(Duration.ofSeconds(30))
                      .enableAdaptiveRefreshTrigger(
                          ClusterTopologyRefreshOptions.RefreshTrigger.MOVED_REDIRECT,
                          ClusterTopologyRefreshOptions.RefreshTrigger.ASK_REDIRECT,
                          ClusterTopologyRefreshOptions.RefreshTrigger.PERSISTENT_RECONNECTS,
                          ClusterTopologyRefreshOptions.RefreshTrigger.UNCOVERED_SLOT,
                          ClusterTopologyRefreshOptions.RefreshTrigger.UNKNOWN_NODE)
                      .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                      .build())
              .build());
      client = cluster;
    } else {
      RedisClient single = new AsyncOnlyClient(resources, url.uri());
      single.setOptions(
          ClientOptions.builder()
              .autoReconnect(true)
              .pingBeforeActivateConnection(true)
              .timeoutOptions(TimeoutOptions.enabled(url.timeout()))
              .socketOptions(socket)
              .build());
      client = single;
    }
    StatefulConnection<String, byte[]> connection = null;
    try {
      connection = connect(client);
      return new Redis(url, resources, client, connection, connect(client));
    } catch (RuntimeException e) {
      if (connection != null) {
        connection.close();
      }
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      resources.shutdown(0, 1, TimeUnit.SECONDS);
      throw new BackendUnavailableException(
          "cannot connect to Redis at " + url.display() + ": " + rootMessage(e), e);
    }
  }

  private static StatefulConnection<String, byte[]> connect(AbstractRedisClient client) {
    return client instanceof RedisClusterClient cluster
        ? cluster.connect(CODEC)
        : ((RedisClient) client).connect(CODEC);
  }

  /**
   * Opens a connection for subscriptions; Lettuce re-subscribes it after a reconnect. On a cluster
   * it is connected to one node, which hears every PUBLISH of the cluster.
   */
  public StatefulRedisPubSubConnection<String, byte[]> connectPubSub() {
    try {
      return client instanceof RedisClusterClient cluster
          ? cluster.connectPubSub(CODEC)
          : ((RedisClient) client).connectPubSub(CODEC);
    } catch (RuntimeException e) {
      throw new BackendUnavailableException(
          "cannot connect to Redis at " + url.display() + ": " + rootMessage(e), e);
    }
  }

  public AbstractRedisClient client() {
    return client;
  }

  /** Whether this is a Redis Cluster: a script may then only touch keys of one hash slot. */
  public boolean cluster() {
    return url.cluster();
  }

  /** The shared command interface; every call returns at once with a future. */
  public RedisClusterAsyncCommands<String, byte[]> async() {
    return async;
  }

  /**
   * A batch of commands for the shared connection, written in one go by {@link Batch#send}.
   *
   * @param expected how many commands it will hold (a sizing hint)
   */
  Batch batch(int expected) {
    return new Batch(connection, async, expected);
  }

  /**
   * A second connection for claims, so a worker's claim is not queued behind the large pipelined
   * batches of outcome writes on the shared connection (head-of-line blocking).
   */
  public RedisClusterAsyncCommands<String, byte[]> claimAsync() {
    return claimAsync;
  }

  public RedisUrl url() {
    return url;
  }

  /**
   * Waits for a command's result.
   *
   * @param what what was being done, for the error message
   * @throws BackendException if the command failed or timed out
   */
  public <T> T await(CompletionStage<T> command, String what) {
    try {
      return awaitInterruptibly(command, what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackendUnavailableException(
          what + " on Redis at " + url.display() + ": interrupted", e);
    }
  }

  /** Like {@link #await} but lets an interrupt through. */
  public <T> T awaitInterruptibly(CompletionStage<T> command, String what)
      throws InterruptedException {
    CompletableFuture<T> f = command.toCompletableFuture();
    try {
      // Lettuce enforces the command timeout; the extra margin only guards against a lost future.
      return f.get(url.timeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw failure(what, e.getCause());
    } catch (TimeoutException e) {
      f.cancel(false);
      throw failure(what, e);
    }
  }

  /**
   * Waits until the URL's {@link Durability} holds for the writes sent so far on the command
   * connection: {@code WAIT replicas timeout} on the server, or on a cluster on the master of each
   * of {@code keys}' slots (every master when {@code keys} is null). Returns at once with {@code
   * durability=none}. On a cluster the per-node connection is the one Lettuce routes that node's
   * commands through, so WAIT covers them.
   *
   * @param what what was written, for the error message
   * @throws BackendUnavailableException if fewer replicas acknowledged within the timeout: the
   *     writes are on the master, and are lost if it fails before a replica has them
   */
  public void awaitReplicas(java.util.Collection<String> keys, String what) {
    Durability d = url.durability();
    if (!d.waits()) {
      return;
    }
    long timeoutMs = d.timeout().toMillis();
    java.util.List<CompletableFuture<Long>> acks = new java.util.ArrayList<>();
    java.util.List<String> nodes = new java.util.ArrayList<>();
    if (connection instanceof StatefulRedisClusterConnection<String, byte[]> c) {
      java.util.Set<io.lettuce.core.cluster.models.partitions.RedisClusterNode> masters =
          new java.util.LinkedHashSet<>();
      io.lettuce.core.cluster.models.partitions.Partitions partitions = c.getPartitions();
      boolean all = keys == null;
      if (!all) {
        for (String k : keys) {
          io.lettuce.core.cluster.models.partitions.RedisClusterNode n =
              partitions.getMasterBySlot(io.lettuce.core.cluster.SlotHash.getSlot(k));
          if (n == null) {
            all = true; // the topology is being refreshed: wait on every master instead
            break;
          }
          masters.add(n);
        }
      }
      if (all) {
        for (io.lettuce.core.cluster.models.partitions.RedisClusterNode n : partitions) {
          if (n.is(io.lettuce.core.cluster.models.partitions.RedisClusterNode.NodeFlag.UPSTREAM)
              && !n.getSlots().isEmpty()) {
            masters.add(n);
          }
        }
      }
      for (io.lettuce.core.cluster.models.partitions.RedisClusterNode n : masters) {
        io.lettuce.core.RedisURI u = n.getUri();
        nodes.add(u.getHost() + ":" + u.getPort());
        acks.add(
            c.getConnection(u.getHost(), u.getPort())
                .async()
                .waitForReplication(d.replicas(), timeoutMs)
                .toCompletableFuture());
      }
    } else {
      nodes.add(url.display());
      acks.add(
          ((StatefulRedisConnection<String, byte[]>) connection)
              .async()
              .waitForReplication(d.replicas(), timeoutMs)
              .toCompletableFuture());
    }
    for (int i = 0; i < acks.size(); i++) {
      long n = await(acks.get(i), what + ": wait for replicas");
      if (n < d.replicas()) {
        throw new BackendUnavailableException(
            what
                + " on Redis at "
                + nodes.get(i)
                + ": acknowledged by "
                + n
                + " of "
                + d.replicas()
                + " replica(s) within "
                + timeoutMs
                + " ms (durability="
                + d
                + "); the write is on the master and is lost if the master fails before a"
                + " replica has it",
            null);
      }
    }
  }

  /** The exception for a failed command. */
  public BackendException failure(String what, Throwable cause) {
    if (cause instanceof BackendException b) {
      return b;
    }
    String detail =
        cause instanceof RedisCommandTimeoutException || cause instanceof TimeoutException
            ? "no answer within " + url.timeout().toMillis() + " ms (is Redis down or overloaded?)"
            : rootMessage(cause);
    if (!url.cluster() && (detail.startsWith("MOVED ") || detail.startsWith("ASK "))) {
      detail +=
          " (this server is a Redis Cluster node: connect with redis-cluster://host:port,...)";
    }
    String message = what + " on Redis at " + url.display() + ": " + detail;
    return unavailable(cause)
        ? new BackendUnavailableException(message, cause)
        : new BackendException(message, cause);
  }

  /** Errors of the server rather than of the command: no answer, or a state that passes. */
  private static final java.util.List<String> SERVER_STATES =
      java.util.List.of(
          "LOADING",
          "BUSY",
          "OOM",
          "READONLY",
          "MASTERDOWN",
          "CLUSTERDOWN",
          "TRYAGAIN",
          "NOREPLICAS");

  /**
   * Whether {@code cause} says Redis is unavailable (unreachable, not answering in time, loading,
   * busy with a script, out of memory, a read-only replica...) rather than refusing the command
   * itself ({@code WRONGTYPE}, a script error): the same command may succeed later.
   */
  static boolean unavailable(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RedisCommandTimeoutException
          || t instanceof TimeoutException
          || t instanceof io.lettuce.core.RedisConnectionException
          || t instanceof java.io.IOException
          || t instanceof io.lettuce.core.RedisCommandInterruptedException) {
        return true;
      }
      String m = t.getMessage();
      if (t instanceof io.lettuce.core.RedisCommandExecutionException && m != null) {
        for (String state : SERVER_STATES) {
          if (m.startsWith(state + " ") || m.equals(state)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m;
  }

  @Override
  public void close() {
    try {
      claimConnection.close();
      connection.close();
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }
}
