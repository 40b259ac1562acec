package dev.errand.redis.internal;

import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
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
 * <p>A claim that finds nothing waits for a pub/sub "work arrived" message on the queue's channel
 * (sent by enqueue, release and retry), or until the next delayed message or lease is due — never a
 * polling loop. While leases or delayed messages exist it re-checks at least once a second, which
 * also bounds the effect of clock differences between hosts. Thread-safe.
 */
public final class RedisBroker implements Broker {

  private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);

  /** The longest a waiting claim sleeps while something is due later: 1 s. */
  static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final byte[][] NO_ARGS = new byte[0][];

  private final Redis redis;
  private final Keys keys;
  private final Clock clock;
  private final Notifier notifier;
  private final DeadLetterStore deadLetters;
  private final AtomicLong wakeups = new AtomicLong();
  private final String node = UUID.randomUUID().toString().substring(0, 8);
  private final AtomicLong claims = new AtomicLong();
  private final Set<String> knownQueues = java.util.concurrent.ConcurrentHashMap.newKeySet();

  public RedisBroker(
      Redis redis, Keys keys, Clock clock, Notifier notifier, DeadLetterStore deadLetters) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.notifier = notifier;
    this.deadLetters = deadLetters;
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    long now = clock.millis();
    // One script call per queue, in the order queues first appear; results keep message order.
    Map<String, List<Integer>> byQueue = new LinkedHashMap<>();
    for (int i = 0; i < messages.size(); i++) {
      byQueue.computeIfAbsent(messages.get(i).queue(), q -> new ArrayList<>()).add(i);
    }
    RedisAsyncCommands<String, byte[]> cmd = redis.async();
    List<CompletableFuture<List<Object>>> calls = new ArrayList<>(byQueue.size());
    List<List<Integer>> order = new ArrayList<>(byQueue.size());
    for (Map.Entry<String, List<Integer>> e : byQueue.entrySet()) {
      Keys.QueueKeys qk = keys.queue(e.getKey());
      List<String> keyList =
          new ArrayList<>(List.of(qk.ready(), qk.delayed(), qk.body(), qk.meta(), qk.seq()));
      List<byte[]> args = new ArrayList<>(3 + e.getValue().size() * 6);
      args.add(num(now));
      args.add(bytes(qk.wakeChannel()));
      args.add(num(e.getValue().size()));
      for (int i : e.getValue()) {
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
      }
      calls.add(
          Script.ENQUEUE.run(
              cmd, ScriptOutputType.MULTI, keyList.toArray(String[]::new), args.toArray(NO_ARGS)));
      order.add(e.getValue());
      if (knownQueues.add(e.getKey())) {
        cmd.zadd(keys.queues(), now, bytes(e.getKey()));
      }
    }
    EnqueueResult[] out = new EnqueueResult[messages.size()];
    List<String> queueNames = new ArrayList<>(byQueue.keySet());
    for (int c = 0; c < calls.size(); c++) {
      List<Object> result = redis.await(calls.get(c), "enqueue");
      String quarantined = text(result.get(1));
      if (!quarantined.isEmpty()) {
        quarantine(queueNames.get(c), quarantined);
      }
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
    notifier.bump(); // consumers in this process need not wait for the pub/sub echo
    return List.of(out);
  }

  @Override
  public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
      throws InterruptedException {
    if (queues.isEmpty() || max <= 0) {
      throw new IllegalArgumentException("claim needs queues and max > 0");
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
      for (String q : queues) {
        Attempt a = claimFrom(q, max - got.size(), lease);
        got.addAll(a.deliveries());
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
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return got;
      }
      if (nextDue >= 0) {
        long dueIn = TimeUnit.MILLISECONDS.toNanos(Math.max(1, nextDue - clock.millis()));
        left = Math.min(left, Math.min(dueIn, RECHECK_NANOS));
      }
      notifier.awaitChange(generation, left);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      if (wakeups.get() != wakeupsSeen) {
        return List.of();
      }
    }
  }

  private record Attempt(List<Delivery> deliveries, long nextDue) {}

  private Attempt claimFrom(String queue, int max, Duration lease) throws InterruptedException {
    Keys.QueueKeys qk = keys.queue(queue);
    long now = clock.millis();
    String receiptPrefix = node + "-" + claims.incrementAndGet();
    List<Object> reply =
        redis.awaitInterruptibly(
            Script.CLAIM.run(
                redis.claimAsync(),
                ScriptOutputType.MULTI,
                new String[] {
                  qk.ready(), qk.delayed(), qk.leased(), qk.body(), qk.meta(), qk.seq()
                },
                num(now),
                num(max),
                num(lease.toMillis()),
                bytes(receiptPrefix)),
            "claim from queue '" + queue + "'");
    if (reply.size() > 2) {
      quarantine(queue, text(reply.get(2)));
      return new Attempt(List.of(), 0);
    }
    @SuppressWarnings("unchecked")
    List<Object> flat = (List<Object>) reply.get(0);
    Instant leaseUntil = Instant.ofEpochMilli(now + lease.toMillis());
    List<Delivery> out = new ArrayList<>(flat.size() / 5);
    for (int i = 0; i < flat.size(); i += 5) {
      out.add(
          new Delivery(
              text(flat.get(i)),
              queue,
              (int) number(flat.get(i + 1)),
              (byte[]) flat.get(i + 2),
              (int) number(flat.get(i + 3)),
              text(flat.get(i + 4)),
              leaseUntil));
    }
    return new Attempt(out, number(reply.get(1)));
  }

  /**
   * Something other than Errand wrote a value of the wrong type under a queue's key (a raw LPUSH,
   * say). The claim script moved it aside; each element becomes a dead letter, so nothing is lost
   * and the queue works again.
   */
  private void quarantine(String queue, String key) {
    RedisAsyncCommands<String, byte[]> cmd = redis.async();
    String type = redis.await(cmd.type(key), "inspect foreign key");
    List<byte[]> values =
        switch (type) {
          case "list" -> redis.await(cmd.lrange(key, 0, -1), "read foreign key");
          case "set" -> new ArrayList<>(redis.await(cmd.smembers(key), "read foreign key"));
          case "string" -> List.of(redis.await(cmd.get(key), "read foreign key"));
          case "hash" -> new ArrayList<>(redis.await(cmd.hvals(key), "read foreign key"));
          default -> List.of(("(a Redis " + type + ")").getBytes(StandardCharsets.UTF_8));
        };
    Instant now = clock.instant();
    for (int i = 0; i < values.size(); i++) {
      String body = dev.errand.wire.Wire.bodyText(values.get(i));
      deadLetters.add(
          new DeadLetter(
              "foreign-" + UUID.randomUUID(),
              null,
              queue,
              DeadLetterReason.UNDECODABLE,
              TaskError.of(
                  "InvalidMessage",
                  "found a Redis "
                      + type
                      + " under the queue key "
                      + keys.queue(queue).ready()
                      + " (Errand keeps a sorted set there); element "
                      + (i + 1)
                      + " of "
                      + values.size()
                      + " was not sent by Errand"),
              null,
              null,
              body,
              1,
              null,
              now));
    }
    redis.await(cmd.del(key), "remove foreign key");
    log.error(
        "queue '{}': a Redis {} of {} values was found under its key (not written by Errand);"
            + " moved them to the dead letters",
        queue,
        type,
        values.size());
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
        null,
        "ack");
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    return perQueue(
        deliveries,
        Script.RENEW,
        qk -> new String[] {qk.leased(), qk.meta()},
        num(clock.millis() + lease.toMillis()),
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
      byte[] firstArg,
      String what) {
    Map<String, List<Delivery>> byQueue = groupByQueue(deliveries);
    List<CompletableFuture<List<Object>>> calls = new ArrayList<>(byQueue.size());
    for (Map.Entry<String, List<Delivery>> e : byQueue.entrySet()) {
      calls.add(
          script.run(
              redis.async(),
              ScriptOutputType.MULTI,
              keysOf.apply(keys.queue(e.getKey())),
              idsAndReceipts(firstArg, e.getValue())));
    }
    Set<String> stale = new HashSet<>();
    for (CompletableFuture<List<Object>> c : calls) {
      for (Object id : redis.await(c, what)) {
        stale.add(text(id));
      }
    }
    return stale;
  }

  @Override
  public boolean release(Delivery delivery) {
    Keys.QueueKeys qk = keys.queue(delivery.queue());
    Long done =
        redis.await(
            Script.RELEASE.run(
                redis.async(),
                ScriptOutputType.INTEGER,
                new String[] {qk.ready(), qk.leased(), qk.meta()},
                bytes(delivery.id()),
                bytes(delivery.receipt()),
                bytes(qk.wakeChannel())),
            "release");
    notifier.bump();
    return done == 1L;
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    Keys.QueueKeys qk = keys.queue(delivery.queue());
    Long done =
        redis.await(
            Script.RETRY.run(
                redis.async(),
                ScriptOutputType.INTEGER,
                new String[] {
                  qk.ready(), qk.delayed(), qk.leased(), qk.body(), qk.meta(), qk.seq()
                },
                bytes(delivery.id()),
                bytes(delivery.receipt()),
                body,
                num(notBefore.toEpochMilli()),
                num(clock.millis()),
                bytes(qk.wakeChannel())),
            "retry");
    notifier.bump();
    return done == 1L;
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
    Keys.QueueKeys qk = keys.queue(queue);
    List<Object> r =
        redis.await(
            Script.STATS.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {
                  qk.ready(), qk.delayed(), qk.leased(), qk.body(), qk.meta(), qk.seq()
                },
                num(clock.millis())),
            "queue stats");
    Map<Integer, Long> byPriority = new HashMap<>();
    for (int p = 0; p <= 9; p++) {
      long n = number(r.get(3 + p));
      if (n > 0) {
        byPriority.put(p, n);
      }
    }
    long oldest = number(r.get(13));
    return new QueueStats(
        queue,
        number(r.get(0)),
        number(r.get(1)),
        number(r.get(2)),
        byPriority,
        oldest < 0 ? null : Instant.ofEpochMilli(oldest));
  }

  @Override
  public long purge(String queue) {
    Keys.QueueKeys qk = keys.queue(queue);
    Long n =
        redis.await(
            Script.PURGE.run(
                redis.async(),
                ScriptOutputType.INTEGER,
                new String[] {qk.ready(), qk.delayed(), qk.body(), qk.meta()}),
            "purge");
    return n;
  }

  private static Map<String, List<Delivery>> groupByQueue(Collection<Delivery> deliveries) {
    Map<String, List<Delivery>> byQueue = new LinkedHashMap<>();
    for (Delivery d : deliveries) {
      byQueue.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d);
    }
    return byQueue;
  }

  private static byte[][] idsAndReceipts(byte[] first, List<Delivery> ds) {
    int off = first == null ? 0 : 1;
    byte[][] args = new byte[off + ds.size() * 2][];
    if (first != null) {
      args[0] = first;
    }
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
