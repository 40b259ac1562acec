package dev.errand.redis.internal;

import dev.errand.TaskStatus;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the backend hears from Redis without asking: one pub/sub connection, opened on first use,
 * that carries "a queue got work" (so a waiting claim re-checks at once, no polling) and "a task is
 * ready" (so {@code AsyncResult.get} wakes at once). Lettuce re-subscribes after a reconnect; since
 * messages sent while the connection was down are lost, a reconnect wakes every waiter to re-check
 * for itself. Thread-safe.
 */
public final class Notifier implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Notifier.class);

  private final Redis redis;
  private final Keys keys;
  private final Object lock = new Object();
  // Separate from `lock`: connecting waits for Lettuce's event loop, whose reconnect listener
  // takes `lock` to wake waiters.
  private final Object connectLock = new Object();
  private final Set<String> queues = ConcurrentHashMap.newKeySet();
  private final Map<String, List<CompletableFuture<TaskStatus>>> waiters =
      new ConcurrentHashMap<>();
  private volatile StatefulRedisPubSubConnection<String, byte[]> connection;
  private volatile Consumer<String> recheck = id -> {};
  private final Map<String, Consumer<byte[]>> channels = new ConcurrentHashMap<>();
  private final List<Runnable> onDisconnect = new CopyOnWriteArrayList<>();
  private final Set<ParkedClaim> parked = ConcurrentHashMap.newKeySet();
  private final ResultChannels results;
  private long generation;
  private volatile boolean closed;

  /**
   * Where ready statuses are published and how they read.
   *
   * @param prefix the channel of task {@code id} is {@code prefix + id}
   * @param decode the status a message carries, or null if it is none or not a ready one
   */
  public record ResultChannels(String prefix, BiFunction<String, byte[], TaskStatus> decode) {}

  public Notifier(Redis redis, Keys keys) {
    this(
        redis,
        keys,
        new ResultChannels(keys.doneChannelPrefix(), (id, m) -> Codec.decodeResult(m)));
  }

  /** A notifier whose task channels are {@code results}' (Celery's result channels, say). */
  public Notifier(Redis redis, Keys keys, ResultChannels results) {
    this.redis = redis;
    this.keys = keys;
    this.results = results;
    // Client-wide: fires for the command connection too, which is as good a reason to re-check.
    redis.client().addListener(new Reconnects());
  }

  /** Called with a task id after a reconnect, for each task someone waits for. */
  public void onReconnect(Consumer<String> recheck) {
    this.recheck = recheck;
  }

  /**
   * Subscribes to {@code channel} (waiting for the subscription) and hands each message to {@code
   * handler}, on Lettuce's event loop: handlers must not block.
   */
  public void listen(String channel, Consumer<byte[]> handler) {
    channels.put(channel, handler);
    redis.await(connection().async().subscribe(channel), "subscribe");
  }

  /** Runs {@code action} (on Lettuce's event loop) whenever a connection to Redis is lost. */
  public void onDisconnect(Runnable action) {
    onDisconnect.add(action);
  }

  private void recheckQuietly(String id) {
    try {
      recheck.accept(id);
    } catch (RuntimeException e) {
      log.debug("re-check of task [{}] failed: {}", id, e.toString());
    }
  }

  /** A number that changes whenever a watched queue may have new work. */
  public long generation() {
    synchronized (lock) {
      return generation;
    }
  }

  /** Makes every waiting claim in this process re-check. */
  public void bump() {
    synchronized (lock) {
      generation++;
      lock.notifyAll();
    }
  }

  /**
   * Waits until the generation moves past {@code seen}, or {@code nanos} pass.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void awaitChange(long seen, long nanos) throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    synchronized (lock) {
      while (generation == seen && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        lock.wait(left / 1_000_000, (int) (left % 1_000_000));
      }
    }
  }

  /**
   * A claim waiting for work on some queues, which the thread that hears a queue's wake-up message
   * may run on the claimer's behalf.
   */
  public interface ParkedClaim {
    /**
     * Sends the claim for {@code queue} if this claim waits for it and was not sent or withdrawn
     * yet; called on Lettuce's event loop, so it must not block.
     *
     * @param commands the subscription connection's commands when they may be used while subscribed
     *     (RESP3: the reply then comes back on the thread that sent it), else null
     * @return true if it was sent (it then wakes its claimer itself, once the reply is in)
     */
    boolean fire(String queue, RedisClusterAsyncCommands<String, byte[]> commands);
  }

  /** Offers wake-up messages to {@code claim} until {@link #unpark}. */
  public void park(ParkedClaim claim) {
    parked.add(claim);
  }

  /** Stops offering wake-up messages to {@code claim}. */
  public void unpark(ParkedClaim claim) {
    parked.remove(claim);
  }

  /** Subscribes to the wake-up channels of {@code names}, waiting for the subscription. */
  public void watchQueues(List<String> names) {
    for (String q : names) {
      if (!queues.contains(q)) {
        redis.await(connection().async().subscribe(keys.queue(q).wakeChannel()), "subscribe");
        queues.add(q);
      }
    }
  }

  /**
   * Registers {@code future} to complete with the task's status once a ready status is published,
   * and subscribes to that task's channel (waiting for the subscription, so a status stored after
   * this returns is never missed).
   */
  public void waitFor(String taskId, CompletableFuture<TaskStatus> future) {
    boolean first;
    synchronized (waiters) {
      List<CompletableFuture<TaskStatus>> list = waiters.get(taskId);
      first = list == null;
      if (first) {
        list = new CopyOnWriteArrayList<>();
        waiters.put(taskId, list);
      }
      list.add(future);
    }
    future.whenComplete((s, e) -> forget(taskId, future));
    if (first) {
      redis.await(connection().async().subscribe(results.prefix() + taskId), "subscribe");
    }
  }

  /**
   * A future completed with the task's ready status: subscribes first, then looks with {@code
   * lookup}, so that a status stored in between is published after we listen, never missed.
   */
  public CompletableFuture<TaskStatus> whenReady(
      String taskId, java.util.function.Function<String, java.util.Optional<TaskStatus>> lookup) {
    CompletableFuture<TaskStatus> future = new CompletableFuture<>();
    waitFor(taskId, future);
    try {
      lookup.apply(taskId).filter(s -> s.state().isReady()).ifPresent(future::complete);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  /** Completes the waiters of a task with its ready status. */
  public void complete(String taskId, TaskStatus status) {
    List<CompletableFuture<TaskStatus>> list = waiters.get(taskId);
    if (list != null) {
      for (CompletableFuture<TaskStatus> f : list) {
        // Not on Lettuce's event loop: callers' continuations may block.
        f.completeAsync(() -> status);
      }
    }
  }

  private void forget(String taskId, CompletableFuture<TaskStatus> future) {
    boolean last = false;
    synchronized (waiters) {
      List<CompletableFuture<TaskStatus>> list = waiters.get(taskId);
      if (list != null) {
        list.remove(future);
        if (list.isEmpty()) {
          waiters.remove(taskId);
          last = true;
        }
      }
    }
    StatefulRedisPubSubConnection<String, byte[]> c = connection;
    if (last && c != null && c.isOpen()) {
      c.async().unsubscribe(results.prefix() + taskId);
    }
  }

  private StatefulRedisPubSubConnection<String, byte[]> connection() {
    StatefulRedisPubSubConnection<String, byte[]> c = connection;
    if (c != null) {
      return c;
    }
    synchronized (connectLock) {
      if (closed) {
        throw new IllegalStateException("the Redis backend is closed");
      }
      if (connection == null) {
        c = redis.connectPubSub();
        c.addListener(new Listener());
        connection = c;
      }
      return connection;
    }
  }

  @Override
  public void close() {
    StatefulRedisPubSubConnection<String, byte[]> c;
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    synchronized (connectLock) {
      c = connection;
      connection = null;
    }
    if (c != null) {
      c.close();
    }
  }

  private final class Listener extends RedisPubSubAdapter<String, byte[]> {
    @Override
    public void message(String channel, byte[] message) {
      Consumer<byte[]> handler = channels.get(channel);
      if (handler != null) {
        handler.accept(message);
      } else if (channel.startsWith(keys.wakeChannelPrefix())) {
        String queue = channel.substring(keys.wakeChannelPrefix().length());
        for (ParkedClaim claim : parked) {
          if (claim.fire(queue, commandsWhileSubscribed())) {
            return; // its reply wakes the claimers
          }
        }
        bump();
      } else if (channel.startsWith(results.prefix())) {
        String id = channel.substring(results.prefix().length());
        try {
          TaskStatus status = results.decode().apply(id, message);
          if (status == null || !status.state().isReady()) {
            return; // Celery publishes every state; only a ready one completes a wait
          }
          complete(id, status);
        } catch (RuntimeException e) {
          log.warn("undecodable result notification for task [{}]: {}", id, e.toString());
          CompletableFuture.runAsync(() -> recheckQuietly(id));
        }
      }
    }
  }

  /**
   * The subscription connection's commands if they can be used while it is subscribed: with RESP3
   * (Redis 6 and later) any command may be, else null. Null on a cluster too: the subscription's
   * node may not serve the queue's slot.
   */
  private RedisClusterAsyncCommands<String, byte[]> commandsWhileSubscribed() {
    StatefulRedisPubSubConnection<String, byte[]> c = connection;
    if (!redis.cluster()
        && c instanceof StatefulRedisConnectionImpl<?, ?> impl
        && impl.getConnectionState().getNegotiatedProtocolVersion() == ProtocolVersion.RESP3) {
      return c.async();
    }
    return null;
  }

  private final class Reconnects implements RedisConnectionStateListener {
    @Override
    public void onRedisConnected(
        io.lettuce.core.RedisChannelHandler<?, ?> connection, SocketAddress socketAddress) {
      // Notifications sent while we were away are lost: let everyone look again. Off the event
      // loop: a recheck reads from Redis, and blocking here would stall that very read.
      bump();
      List<String> ids = List.copyOf(waiters.keySet());
      if (!ids.isEmpty()) {
        CompletableFuture.runAsync(() -> ids.forEach(Notifier.this::recheckQuietly));
      }
    }

    @Override
    public void onRedisDisconnected(io.lettuce.core.RedisChannelHandler<?, ?> connection) {
      log.debug("Redis connection lost; reconnecting");
      for (Runnable r : onDisconnect) {
        r.run();
      }
    }
  }
}
