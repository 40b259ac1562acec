package dev.errand.redis.internal;

import dev.errand.TaskOptions;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.LimitStats;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker on Redis. Each queue is a sorted set of ready ids (score: priority band, then an
 * enqueue sequence number), a sorted set of delayed ids (score: due time), a sorted set of leased
 * ids (score: lease deadline) and two hashes (bodies, and per-message metadata). Every operation is
 * one Lua script on one queue's keys, so it is atomic and stays in one Cluster slot.
 *
 * <p>Deadlines and due times are decided by the backend's clock: in server time the scripts read
 * Redis's {@code TIME} themselves (see {@link RedisClock}).
 *
 * <p>A claim that finds nothing waits for a pub/sub "work arrived" message on the queue's channel
 * (sent by enqueue, release and retry), or until the next delayed message or lease is due — never a
 * polling loop. While leases or delayed messages exist it re-checks at least once a second. The
 * claim script for a waiting claim is sent by the thread that receives the message (Lettuce's event
 * loop, on the subscription's own connection where RESP3 allows it), and the waiting thread wakes
 * once, with the reply: on the path from enqueue to a task's start every thread hand-off counts,
 * and waking the claimer only to have it ask Redis cost two of them.
 *
 * <p>Values of the wrong type under a queue's keys, and messages whose metadata Errand did not
 * write, are set aside by the scripts and turned into dead letters by {@link Quarantine}.
 * Thread-safe.
 */
public final class RedisBroker implements Broker {

  private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);

  /** The longest a waiting claim sleeps while something is due later: 1 s. */
  static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final byte[][] NO_ARGS = new byte[0][];
  private static final byte[] NONE = new byte[0];
  private static final byte[] SKIP_PRESENT = bytes("1");

  /**
   * Messages per enqueue script call ({@value}): a larger batch is sent as several calls,
   * pipelined, so that one script never holds Redis for long (500 messages: about 5 ms) and workers
   * claim the first messages while the rest are written.
   */
  static final int ENQUEUE_CHUNK = 500;

  private final Redis redis;
  private final Keys keys;
  private final RedisClock clock;
  private final Notifier notifier;
  private final Quarantine quarantine;
  private final AtomicLong wakeups = new AtomicLong();
  private final String node = UUID.randomUUID().toString().substring(0, 8);
  private final AtomicLong claims = new AtomicLong();
  private final AtomicLong claimsOnWakeUp = new AtomicLong();
  private final Set<String> knownQueues = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Set<String> consumed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final RedisFlowControl flow;
  private final QueueShards shards;
  private volatile boolean listeningForShards;
  private final Map<String, Long> drainChecks = new java.util.concurrent.ConcurrentHashMap<>();

  public RedisBroker(
      Redis redis, Keys keys, RedisClock clock, Notifier notifier, DeadLetterStore deadLetters) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.notifier = notifier;
    this.quarantine = new Quarantine(redis, clock, deadLetters);
    this.flow = new RedisFlowControl(redis, keys, clock);
    this.shards =
        new QueueShards(
            queue -> {
              byte[] v =
                  redis.await(redis.async().hget(keys.queueShards(), queue), "read queue shards");
              return v == null ? null : new String(v, StandardCharsets.UTF_8);
            });
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    return enqueue(messages, false);
  }

  /** The physical queue (shard) {@code m} goes to: its queue unless that is sharded. */
  public String physicalFor(NewMessage m) {
    return shards.forEnqueue(m);
  }

  /** The queues this process has claimed from (shards: each physical queue). */
  Set<String> consumedQueues() {
    return consumed;
  }

  /**
   * Enqueues a settlement's follow-ups: as {@link #enqueue}, but a message whose id is in its queue
   * already is left as it is (its result names itself as the holder).
   */
  List<EnqueueResult> enqueueFollowUps(List<NewMessage> messages) {
    return enqueue(messages, true);
  }

  private List<EnqueueResult> enqueue(List<NewMessage> messages, boolean skipPresent) {
    if (messages.isEmpty()) {
      return List.of();
    }
    long now = clock.millis();
    // One script call per queue and chunk, in the order queues first appear, all sent before the
    // first reply is awaited; results keep message order.
    Map<String, List<Integer>> byQueue = new LinkedHashMap<>();
    for (int i = 0; i < messages.size(); i++) {
      byQueue.computeIfAbsent(shards.forEnqueue(messages.get(i)), q -> new ArrayList<>()).add(i);
    }
    RedisClusterAsyncCommands<String, byte[]> cmd = redis.async();
    List<CompletableFuture<List<Object>>> calls = new ArrayList<>(byQueue.size());
    List<List<Integer>> order = new ArrayList<>(byQueue.size());
    List<String> queueNames = new ArrayList<>(byQueue.size());
    for (Map.Entry<String, List<Integer>> e : byQueue.entrySet()) {
      List<Integer> all = e.getValue();
      for (int from = 0; from < all.size(); from += ENQUEUE_CHUNK) {
        List<Integer> chunk = all.subList(from, Math.min(all.size(), from + ENQUEUE_CHUNK));
        calls.add(enqueueCall(cmd, e.getKey(), chunk, messages, skipPresent));
        order.add(chunk);
        queueNames.add(e.getKey());
      }
      String logical = QueueShards.logical(e.getKey());
      if (knownQueues.add(logical)) {
        cmd.zadd(keys.queues(), now, bytes(logical));
      }
    }
    EnqueueResult[] out = new EnqueueResult[messages.size()];
    for (int c = 0; c < calls.size(); c++) {
      List<Object> result = redis.await(calls.get(c), "enqueue");
      quarantine.foreignValues(queueNames.get(c), Quarantine.keys(result.get(1)));
      @SuppressWarnings("unchecked")
      List<Object> reply = (List<Object>) result.get(0);
      List<Integer> idx = order.get(c);
      for (int j = 0; j < idx.size(); j++) {
        String holder = text(reply.get(j));
        NewMessage m = messages.get(idx.get(j));
        out[idx.get(j)] =
            holder.isEmpty() ? new EnqueueResult(m.id(), false) : new EnqueueResult(holder, true);
      }
    }
    List<String> written = new ArrayList<>(byQueue.size());
    for (String physical : byQueue.keySet()) {
      written.add(keys.queue(physical).body());
    }
    redis.awaitReplicas(written, "enqueue");
    notifier.bump(); // consumers in this process need not wait for the pub/sub echo
    return List.of(out);
  }

  /** Sends the enqueue script call for {@code messages[indexes]}, all of queue {@code queue}. */
  private CompletableFuture<List<Object>> enqueueCall(
      RedisClusterAsyncCommands<String, byte[]> cmd,
      String queue,
      List<Integer> indexes,
      List<NewMessage> messages,
      boolean skipPresent) {
    Keys.QueueKeys qk = keys.queue(queue);
    List<String> keyList =
        new ArrayList<>(List.of(qk.ready(), qk.delayed(), qk.body(), qk.meta(), qk.seq()));
    List<byte[]> args = new ArrayList<>(4 + indexes.size() * 8);
    args.add(clock.scriptNow());
    args.add(bytes(qk.wakeChannel()));
    args.add(num(indexes.size()));
    args.add(skipPresent ? SKIP_PRESENT : NONE);
    for (int i : indexes) {
      NewMessage m = messages.get(i);
      int keyIndex = 0;
      long window = 0;
      if (m.idempotencyKey() != null) {
        keyList.add(qk.idempotencyPrefix() + m.idempotencyKey());
        keyIndex = keyList.size();
        window = m.idempotencyWindow().toMillis();
      }
      args.add(bytes(m.id()));
      args.add(num(m.priority()));
      args.add(m.body());
      args.add(num(m.notBefore() == null ? 0 : m.notBefore().toEpochMilli()));
      args.add(num(keyIndex));
      args.add(num(window));
      args.add(m.limit() == null ? NONE : RedisFlowControl.limitSpec(m.limit()));
      args.add(m.uniqueKey() == null ? NONE : bytes(m.uniqueKey()));
    }
    return Script.ENQUEUE.run(
        cmd, ScriptOutputType.MULTI, keyList.toArray(String[]::new), args.toArray(NO_ARGS));
  }

  @Override
  public List<Delivery> claim(List<String> logicalQueues, int max, Duration lease, Duration wait)
      throws InterruptedException {
    if (logicalQueues.isEmpty() || max <= 0) {
      throw new IllegalArgumentException("claim needs queues and max > 0");
    }
    shardUpkeep(logicalQueues);
    List<String> queues = shards.forClaim(logicalQueues); // their shards, in rotation
    if (!consumed.containsAll(queues)) {
      consumed.addAll(queues);
    }
    long deadline = System.nanoTime() + wait.toNanos();
    long wakeupsSeen = wakeups.get();
    if (!wait.isZero()) {
      notifier.watchQueues(queues);
    }
    while (true) {
      long generation = notifier.generation();
      List<Delivery> got = new ArrayList<>();
      long nextDue = -1;
      boolean setAside = false;
      for (String q : queues) {
        Attempt a = claimFrom(q, max - got.size(), lease);
        got.addAll(a.deliveries());
        setAside |= a.setAside();
        if (a.nextDue() >= 0 && (nextDue < 0 || a.nextDue() < nextDue)) {
          nextDue = a.nextDue();
        }
        if (got.size() >= max) {
          break;
        }
      }
      if (!got.isEmpty() || wait.isZero() || wakeups.get() != wakeupsSeen) {
        return got;
      }
      if (setAside) {
        continue; // what was behind the garbage may be ready now
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return got;
      }
      if (nextDue >= 0) {
        long dueIn = TimeUnit.MILLISECONDS.toNanos(Math.max(1, nextDue - clock.millis()));
        left = Math.min(left, Math.min(dueIn, RECHECK_NANOS));
      }
      Parked parked = new Parked(queues, max, lease);
      notifier.park(parked);
      boolean interrupted = false;
      try {
        notifier.awaitChange(generation, left);
      } catch (InterruptedException e) {
        interrupted = true;
      } finally {
        notifier.unpark(parked);
      }
      if (!parked.withdraw()) {
        // Claimed on our behalf: the messages are leased to us, so they are returned even to a
        // caller that is being interrupted or woken up (a stopping worker releases them at once).
        Attempt a = parked.attempt();
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        List<Delivery> taken = a == null ? List.of() : a.deliveries();
        if (!taken.isEmpty() || interrupted || wakeups.get() != wakeupsSeen) {
          return taken;
        }
        continue; // someone else was quicker, or it failed: look at every queue again
      }
      if (interrupted || Thread.interrupted()) {
        throw new InterruptedException();
      }
      if (wakeups.get() != wakeupsSeen) {
        return List.of();
      }
    }
  }

  /**
   * A claim waiting for work, which the thread that hears the queue's wake-up message may run on
   * its behalf ({@link Notifier.ParkedClaim}). Exactly one of {@link #fire} and {@link #withdraw}
   * succeeds.
   */
  private final class Parked implements Notifier.ParkedClaim {
    private static final int WAITING = 0;
    private static final int FIRED = 1;
    private static final int WITHDRAWN = 2;

    private final List<String> queues;
    private final int max;
    private final Duration lease;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private final CompletableFuture<Fired> result = new CompletableFuture<>();

    Parked(List<String> queues, int max, Duration lease) {
      this.queues = queues;
      this.max = max;
      this.lease = lease;
    }

    @Override
    public boolean fire(String queue, RedisClusterAsyncCommands<String, byte[]> commands) {
      if (!queues.contains(queue) || !state.compareAndSet(WAITING, FIRED)) {
        return false;
      }
      claimsOnWakeUp.incrementAndGet();
      CompletableFuture<List<Object>> reply;
      try {
        reply = sendClaim(commands == null ? redis.claimAsync() : commands, queue, max, lease);
      } catch (RuntimeException e) {
        reply = CompletableFuture.failedFuture(e);
      }
      reply.whenComplete(
          (r, e) -> {
            // The reply is read by the claimer: reading it may call Redis (garbage set aside),
            // which this thread, Lettuce's event loop, must never wait for.
            if (e != null) {
              result.completeExceptionally(e);
            } else {
              result.complete(new Fired(queue, r));
            }
            // Wakes the parked claimer, and any other claim of this process, which may find
            // what this one had no room for.
            notifier.bump();
          });
      return true;
    }

    /** True if it was not fired, and now never will be. */
    boolean withdraw() {
      return state.compareAndSet(WAITING, WITHDRAWN);
    }

    /**
     * The outcome of the claim sent on our behalf (waited for without interruption), or null if it
     * failed: the caller then claims as usual, which reports the failure if it persists.
     */
    Attempt attempt() {
      Fired fired;
      try {
        fired = redis.await(result, "claim from queue(s) " + queues);
      } catch (RuntimeException e) {
        log.debug("a claim sent on wake-up failed; claiming again: {}", e.toString());
        return null;
      }
      return parseClaim(fired.queue(), lease, fired.reply());
    }
  }

  /** A claim script's reply for {@code queue}. */
  private record Fired(String queue, List<Object> reply) {}

  /**
   * One claim script's outcome.
   *
   * @param nextDue when the next delayed message or lease is due (ms, backend clock), or -1
   * @param setAside whether it set garbage aside (then the queue may hold more right behind it)
   */
  private record Attempt(List<Delivery> deliveries, long nextDue, boolean setAside) {}

  private Attempt claimFrom(String queue, int max, Duration lease) throws InterruptedException {
    List<Object> reply =
        redis.awaitInterruptibly(
            sendClaim(redis.claimAsync(), queue, max, lease), "claim from queue '" + queue + "'");
    return parseClaim(queue, lease, reply);
  }

  /** Sends the claim script; it never blocks (it may run on Lettuce's event loop). */
  private CompletableFuture<List<Object>> sendClaim(
      RedisClusterAsyncCommands<String, byte[]> commands, String queue, int max, Duration lease) {
    Keys.QueueKeys qk = keys.queue(queue);
    String receiptPrefix = QueueShards.receiptPrefix(node + "-" + claims.incrementAndGet(), queue);
    return Script.CLAIM.run(
        commands,
        ScriptOutputType.MULTI,
        new String[] {
          qk.ready(), qk.delayed(), qk.leased(), qk.body(), qk.meta(), qk.seq(), qk.paused()
        },
        clock.scriptNow(),
        num(max),
        num(lease.toMillis()),
        bytes(receiptPrefix));
  }

  /** Reads a claim script's reply; set-aside garbage is dealt with by {@link Quarantine}. */
  private Attempt parseClaim(String queue, Duration lease, List<Object> reply) {
    Keys.QueueKeys qk = keys.queue(queue);
    @SuppressWarnings("unchecked")
    List<Object> flat = (List<Object>) reply.get(0);
    @SuppressWarnings("unchecked")
    List<Object> corrupt = (List<Object>) reply.get(4);
    List<String> foreign = Quarantine.keys(reply.get(3));
    if (!corrupt.isEmpty()) {
      ackAll(quarantine.corruptMetadata(queue, qk.meta(), corrupt));
    }
    quarantine.foreignValues(queue, foreign);
    Instant leaseUntil = Instant.ofEpochMilli(number(reply.get(2)) + lease.toMillis());
    List<Delivery> out = new ArrayList<>(flat.size() / 5);
    String logical = QueueShards.logical(queue); // the receipts name the shard
    for (int i = 0; i < flat.size(); i += 5) {
      out.add(
          new Delivery(
              text(flat.get(i)),
              logical,
              (int) number(flat.get(i + 1)),
              (byte[]) flat.get(i + 2),
              (int) number(flat.get(i + 3)),
              text(flat.get(i + 4)),
              leaseUntil));
    }
    return new Attempt(out, number(reply.get(1)), !corrupt.isEmpty() || !foreign.isEmpty());
  }

  @Override
  public boolean ack(Delivery delivery) {
    return ackAll(List.of(delivery)).isEmpty();
  }

  /** Acks many deliveries, one script call per queue, all pipelined. Returns stale ids. */
  public Set<String> ackAll(List<Delivery> deliveries) {
    return perQueue(
        deliveries,
        Script.ACK,
        qk -> new String[] {qk.leased(), qk.body(), qk.meta()},
        new byte[][] {clock.scriptNow()},
        "ack");
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    return perQueue(
        deliveries,
        Script.RENEW,
        qk -> new String[] {qk.leased(), qk.meta()},
        new byte[][] {clock.scriptNow(), num(lease.toMillis())},
        "renew leases");
  }

  /**
   * Runs a receipt-checking script once per queue for its deliveries (pipelined: all calls are sent
   * before the first reply is awaited) and returns the ids the scripts found stale.
   */
  private Set<String> perQueue(
      Collection<Delivery> deliveries,
      Script script,
      Function<Keys.QueueKeys, String[]> keysOf,
      byte[][] firstArgs,
      String what) {
    Map<String, List<Delivery>> byQueue = groupByQueue(deliveries);
    List<CompletableFuture<List<Object>>> calls = new ArrayList<>(byQueue.size());
    for (Map.Entry<String, List<Delivery>> e : byQueue.entrySet()) {
      calls.add(
          script.run(
              redis.async(),
              ScriptOutputType.MULTI,
              keysOf.apply(keys.queue(e.getKey())),
              idsAndReceipts(firstArgs, e.getValue())));
    }
    Set<String> stale = new HashSet<>();
    List<String> queueNames = new ArrayList<>(byQueue.keySet());
    for (int c = 0; c < calls.size(); c++) {
      List<Object> reply = redis.await(calls.get(c), what);
      for (Object id : (List<?>) reply.get(0)) {
        stale.add(text(id));
      }
      quarantine.foreignValues(queueNames.get(c), Quarantine.keys(reply.get(1)));
    }
    return stale;
  }

  /**
   * Dead-letters and deletes the values a script moved aside from {@code queue}'s keys (see {@code
   * guard.lua}).
   */
  void foreignValues(String queue, List<String> asideKeys) {
    quarantine.foreignValues(queue, asideKeys);
  }

  @Override
  public boolean release(Delivery delivery) {
    Keys.QueueKeys qk = keys.queue(QueueShards.physical(delivery));
    List<Object> reply =
        redis.await(
            Script.RELEASE.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {qk.ready(), qk.leased(), qk.meta()},
                bytes(delivery.id()),
                bytes(delivery.receipt()),
                bytes(qk.wakeChannel()),
                clock.scriptNow()),
            "release");
    quarantine.foreignValues(delivery.queue(), Quarantine.keys(reply.get(1)));
    notifier.bump();
    return number(reply.get(0)) == 1L;
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    Keys.QueueKeys qk = keys.queue(QueueShards.physical(delivery));
    List<Object> reply =
        redis.await(
            Script.RETRY.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {
                  qk.ready(), qk.delayed(), qk.leased(), qk.body(), qk.meta(), qk.seq()
                },
                bytes(delivery.id()),
                bytes(delivery.receipt()),
                body,
                num(notBefore.toEpochMilli()),
                clock.scriptNow(),
                bytes(qk.wakeChannel())),
            "retry");
    quarantine.foreignValues(delivery.queue(), Quarantine.keys(reply.get(1)));
    notifier.bump();
    return number(reply.get(0)) == 1L;
  }

  /** How many claims the thread that heard a wake-up message sent for a waiting claimer. */
  public long claimsOnWakeUp() {
    return claimsOnWakeUp.get();
  }

  @Override
  public void wakeup() {
    wakeups.incrementAndGet();
    notifier.bump();
  }

  @Override
  public List<String> queues() {
    List<String> out = new ArrayList<>();
    for (byte[] q : redis.await(redis.async().zrange(keys.queues(), 0, -1), "list queues")) {
      out.add(new String(q, StandardCharsets.UTF_8));
    }
    out.sort(null);
    return out;
  }

  @Override
  public QueueStats stats(String queue) {
    List<String> physical = shards.all(queue);
    List<CompletableFuture<List<Object>>> calls = new ArrayList<>(physical.size());
    for (String p : physical) {
      Keys.QueueKeys qk = keys.queue(p);
      calls.add(
          Script.STATS.run(
              redis.async(),
              ScriptOutputType.MULTI,
              new String[] {
                qk.ready(), qk.delayed(), qk.leased(), qk.body(), qk.meta(), qk.seq(), qk.paused()
              },
              clock.scriptNow()));
    }
    long ready = 0;
    long leased = 0;
    long delayed = 0;
    long limited = 0;
    long oldest = -1;
    boolean paused = false;
    Map<Integer, Long> byPriority = new HashMap<>();
    for (int c = 0; c < calls.size(); c++) {
      List<Object> r = redis.await(calls.get(c), "queue stats");
      quarantine.foreignValues(physical.get(c), Quarantine.keys(r.get(14)));
      ready += number(r.get(0));
      leased += number(r.get(1));
      delayed += number(r.get(2));
      for (int p = 0; p <= 9; p++) {
        long n = number(r.get(3 + p));
        if (n > 0) {
          byPriority.merge(p, n, Long::sum);
        }
      }
      long o = number(r.get(13));
      if (o >= 0 && (oldest < 0 || o < oldest)) {
        oldest = o;
      }
      paused |= number(r.get(15)) == 1L;
      limited += number(r.get(16));
    }
    return new QueueStats(
        queue,
        ready,
        leased,
        delayed,
        byPriority,
        oldest < 0 ? null : Instant.ofEpochMilli(oldest),
        paused,
        limited);
  }

  @Override
  public int shards(String queue) {
    return shards.layout(queue).shards();
  }

  /**
   * See {@link Broker#setShards}: from 1 to {@value QueueShards#MAX}. The queue keeps its pause.
   * Other processes use the new shards within {@value QueueShards#CACHE_MILLIS} ms (at once when
   * they hear the change announced).
   */
  @Override
  public void setShards(String queue, int n) {
    TaskOptions.validQueue(queue);
    if (n < 1 || n > QueueShards.MAX) {
      throw new IllegalArgumentException(
          "shards must be 1-" + QueueShards.MAX + " but was " + n + " (queue '" + queue + "')");
    }
    if (n > 1 && (queue.contains("{") || queue.contains("}"))) {
      throw new IllegalArgumentException(
          "queue '" + queue + "' cannot be sharded: braces in its name fix its Redis hash slot");
    }
    redis.await(
        Script.SHARDS.run(
            redis.async(),
            ScriptOutputType.VALUE,
            new String[] {keys.queueShards()},
            bytes("set"),
            bytes(queue),
            num(n),
            num(clock.millis())),
        "set the shards of queue '" + queue + "'");
    layoutChanged(queue);
  }

  /** After a layout change: this process and the others read it again; pauses cover new shards. */
  private void layoutChanged(String queue) {
    shards.invalidate();
    redis.await(
        redis.async().publish(keys.shardsChannel(), bytes(queue)), "announce a shard change");
    if (flow.pausedQueues().contains(queue)) {
      flow.pause(queue, shards.all(queue));
    }
  }

  /**
   * On a consumer: listens for layout changes (first claim), and every 30 s per queue forgets the
   * drained shards of queues whose shard count changed.
   */
  private void shardUpkeep(List<String> queues) {
    if (!listeningForShards) {
      synchronized (this) {
        if (!listeningForShards) {
          notifier.listen(keys.shardsChannel(), m -> shards.invalidate());
          listeningForShards = true;
        }
      }
    }
    long now = clock.millis();
    for (String q : queues) {
      if (shards.layout(q).draining().isEmpty()) {
        continue;
      }
      Long last = drainChecks.get(q);
      if (last == null || now - last > 30_000) {
        drainChecks.put(q, now);
        try {
          forgetDrained(q);
        } catch (RuntimeException e) {
          log.debug("could not check the drained shards of queue '{}': {}", q, e.toString());
        }
      }
    }
  }

  /**
   * Forgets the draining shard counts of {@code queue} whose shards have been empty since a minute
   * after they started draining: by then no producer uses them (layouts are read again every
   * {@value QueueShards#CACHE_MILLIS} ms).
   */
  void forgetDrained(String queue) {
    QueueShards.Layout l = shards.layout(queue);
    for (QueueShards.Draining d : l.draining()) {
      if (clock.millis() - d.since() < 60_000) {
        continue;
      }
      List<String> physical = shards.names(queue, d.shards());
      List<CompletableFuture<Long>> sizes = new ArrayList<>();
      for (String p : physical) {
        sizes.add(redis.async().hlen(keys.queue(p).body()).toCompletableFuture());
      }
      boolean empty = true;
      for (CompletableFuture<Long> f : sizes) {
        empty &= redis.await(f, "size of a draining shard") == 0L;
      }
      if (empty) {
        redis.await(
            Script.SHARDS.run(
                redis.async(),
                ScriptOutputType.VALUE,
                new String[] {keys.queueShards()},
                bytes("forget"),
                bytes(queue),
                bytes(d.shards() + "@" + d.since()),
                num(clock.millis())),
            "forget drained shards of queue '" + queue + "'");
        log.info(
            "queue '{}': its {} earlier shards are empty and no longer claimed from",
            queue,
            d.shards());
        layoutChanged(queue);
      }
    }
  }

  @Override
  public List<LimitStats> limits(String queue, int max) {
    List<String> physical = shards.all(queue);
    if (physical.size() == 1) {
      return flow.limits(physical.get(0), max);
    }
    List<LimitStats> all = new ArrayList<>();
    for (String p : physical) {
      all.addAll(flow.limits(p, max));
    }
    all.sort(RedisFlowControl.BUSIEST_FIRST);
    return List.copyOf(all.subList(0, Math.min(max, all.size())));
  }

  @Override
  public void pause(String queue) {
    TaskOptions.validQueue(queue);
    flow.pause(queue, shards.all(queue));
  }

  @Override
  public void resume(String queue) {
    TaskOptions.validQueue(queue);
    flow.resume(queue, shards.all(queue));
    notifier.bump();
  }

  @Override
  public List<String> pausedQueues() {
    return flow.pausedQueues();
  }

  @Override
  public long purge(String queue) {
    long purged = 0;
    for (String p : shards.all(queue)) {
      Keys.QueueKeys qk = keys.queue(p);
      List<Object> reply =
          redis.await(
              Script.PURGE.run(
                  redis.async(),
                  ScriptOutputType.MULTI,
                  new String[] {qk.ready(), qk.delayed(), qk.body(), qk.meta()},
                  clock.scriptNow()),
              "purge");
      quarantine.foreignValues(p, Quarantine.keys(reply.get(1)));
      purged += number(reply.get(0));
    }
    return purged;
  }

  private static Map<String, List<Delivery>> groupByQueue(Collection<Delivery> deliveries) {
    Map<String, List<Delivery>> byQueue = new LinkedHashMap<>();
    for (Delivery d : deliveries) {
      byQueue.computeIfAbsent(QueueShards.physical(d), q -> new ArrayList<>()).add(d);
    }
    return byQueue;
  }

  private static byte[][] idsAndReceipts(byte[][] first, List<Delivery> ds) {
    int off = first.length;
    byte[][] args = new byte[off + ds.size() * 2][];
    System.arraycopy(first, 0, args, 0, off);
    for (int i = 0; i < ds.size(); i++) {
      args[off + 2 * i] = bytes(ds.get(i).id());
      args[off + 2 * i + 1] = bytes(ds.get(i).receipt());
    }
    return args;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] num(long n) {
    return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
  }

  static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
  }

  static long number(Object o) {
    if (o instanceof Long l) {
      return l;
    }
    return Long.parseLong(text(o));
  }
}
