package dev.errand.redis.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.LimitStats;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Broker} on Celery's Redis layout (kombu's): a queue is up to four lists, {@code q} and
 * {@code q\x06\x163/6/9}, that producers {@code LPUSH} and consumers take from the right; a message
 * a consumer holds is in the {@code unacked} hash. Java and Python workers can share the queues.
 *
 * <p>What Errand adds, in keys of its own under {@code <prefix>:celery:}: a claim is one Lua script
 * that pops and records the message (no window where a crash loses it, unlike kombu's BRPOP then
 * MULTI); a lease with a receipt, renewed while the task runs, after which the next claim puts the
 * message back (kombu waits for its visibility timeout, an hour by default); messages with an eta
 * parked in Redis rather than in worker memory; delivery counts. Celery workers still see
 * everything Java holds in {@code unacked}, with a fresh score, so they neither lose nor steal it.
 *
 * <p>Priorities: Errand's 9 (most urgent) is Celery-on-Redis's 0. Within a claim, earlier queues
 * come first and within a queue the more urgent lists, as the {@link Broker} contract says (kombu
 * takes the most urgent list of every queue before the next list). Thread-safe.
 */
public final class CeleryBroker implements Broker, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CeleryBroker.class);

  /** kombu's keys (its defaults; Celery's {@code global_keyprefix} is not supported). */
  static final String UNACKED = "unacked";

  static final String UNACKED_INDEX = "unacked_index";
  static final String UNACKED_MUTEX = "unacked_mutex";
  private static final String BINDING_PREFIX = "_kombu.binding.";

  /** How often kombu's bindings are looked for, to list Python's queues. */
  private static final Duration DISCOVERY_INTERVAL = Duration.ofMinutes(1);

  /** How often Java's holds are re-scored in {@code unacked_index}. */
  private static final Duration REFRESH = Duration.ofSeconds(30);

  /**
   * How often messages abandoned by Celery workers are looked for: as kombu (about every 100 s), or
   * every half visibility timeout when that is shorter.
   */
  private static final Duration RESTORE = Duration.ofSeconds(100);

  private final Redis redis;
  private final RedisClock clock;
  private final CeleryUrl url;
  private final String ns;
  private final String[] fixedKeys;
  private final DeadLetterStore deadLetters;
  private final Object waitLock = new Object();
  private long wakeups;
  private final Set<String> known = ConcurrentHashMap.newKeySet();
  private final Set<String> discovered = ConcurrentHashMap.newKeySet();
  private final Object discoveryLock = new Object();
  private volatile ScanCursor discoveryCursor = ScanCursor.INITIAL;
  private volatile long lastDiscovery;
  private final Set<String> bound = ConcurrentHashMap.newKeySet();
  private final AtomicLong nonce = new AtomicLong();
  private final String instance = UUID.randomUUID().toString().substring(0, 8);
  private volatile ScheduledExecutorService maintenance;
  private volatile Runnable onFirstClaim = () -> {};
  private volatile boolean closed;

  public CeleryBroker(
      Redis redis, RedisClock clock, CeleryUrl url, String errandPrefix, DeadLetterStore dead) {
    this.redis = redis;
    this.clock = clock;
    this.url = url;
    this.ns = errandPrefix + ":celery:";
    this.fixedKeys =
        new String[] {UNACKED, UNACKED_INDEX, ns + "held", ns + "raw", ns + "deadlines"};
    this.deadLetters = dead;
  }

  /** Runs {@code action} once, when this process first claims (it is a worker). */
  public void onFirstClaim(Runnable action) {
    this.onFirstClaim = action;
  }

  /** The first keys of every Celery script (see celery_common.lua). */
  String[] fixedKeys() {
    return fixedKeys;
  }

  String dcPrefix() {
    return ns + "dc:";
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    Instant now = clock.instant();
    List<byte[]> args = new ArrayList<>(1 + messages.size() * 7);
    args.add(clock.scriptNow());
    for (NewMessage m : messages) {
      if (m.limit() != null || m.uniqueKey() != null) {
        throw new UnsupportedOperationException(
            "task "
                + m.id()
                + ": concurrency limits and unique keys are not available on Celery queues"
                + " (celery+redis://); use a redis:// queue for tasks that need them");
      }
      byte[][] push = envelope(m, now);
      args.add(push[0]);
      args.add(push[1]);
      if (bound.add(m.queue())) {
        args.add(bytes(BINDING_PREFIX + m.queue()));
        args.add(bytes(m.queue() + CeleryWire.SEP + CeleryWire.SEP + m.queue()));
      } else {
        args.add(new byte[0]);
        args.add(new byte[0]);
      }
      if (m.idempotencyKey() != null) {
        args.add(bytes(ns + "idem:" + m.queue() + ":" + m.idempotencyKey()));
        args.add(bytes(m.id()));
        args.add(bytes(Long.toString(Math.max(1, m.idempotencyWindow().toMillis()))));
      } else {
        args.add(new byte[0]);
        args.add(bytes(m.id()));
        args.add(bytes("0"));
      }
      register(m.queue());
    }
    List<Object> out;
    try {
      out =
          redis.await(
              Script.CELERY_ENQUEUE.run(
                  redis.async(),
                  ScriptOutputType.MULTI,
                  new String[0],
                  args.toArray(byte[][]::new)),
              "enqueue");
    } catch (RuntimeException e) {
      for (NewMessage m : messages) {
        bound.remove(m.queue()); // the binding may not have been written
      }
      throw e;
    }
    List<EnqueueResult> results = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      String holder = text(out.get(i));
      results.add(
          holder.isEmpty()
              ? new EnqueueResult(messages.get(i).id(), false)
              : new EnqueueResult(holder, true));
    }
    wakeup();
    return results;
  }

  /**
   * The list key and envelope of {@code m} on Celery's layout: an Errand message written as
   * Celery's, not before its eta or {@code notBefore}; a Celery envelope sent again as it was (a
   * dead letter re-driven, a message handed back at shutdown) unchanged, to be read again when
   * claimed.
   */
  byte[][] envelope(NewMessage m, Instant now) {
    byte[] key = bytes(CeleryWire.bucketKey(m.queue(), CeleryWire.toCelery(m.priority())));
    TaskMessage t;
    try {
      t = Wire.decodeMessage(m.body());
    } catch (dev.errand.InvalidMessageException notErrands) {
      return new byte[][] {key, m.body()};
    }
    Instant eta = m.notBefore() != null && m.notBefore().isAfter(now) ? m.notBefore() : t.eta();
    TaskMessage sent = CeleryWire.routed(t, m.queue(), m.priority(), eta);
    return new byte[][] {key, CeleryWire.write(sent, CeleryWire.newTag(), now)};
  }

  @Override
  public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
      throws InterruptedException {
    startMaintenance();
    long deadline = System.nanoTime() + wait.toNanos();
    long pause = TimeUnit.MILLISECONDS.toNanos(1);
    long maxPause = url.pollInterval().toNanos();
    while (true) {
      long seen;
      synchronized (waitLock) {
        seen = wakeups;
      }
      Claimed claimed = claimOnce(queues, max, lease);
      if (!claimed.deliveries.isEmpty()) {
        return claimed.deliveries;
      }
      if (claimed.popped > 0) {
        pause = TimeUnit.MILLISECONDS.toNanos(1);
        continue; // all parked or dead-lettered: look again at once
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || closed) {
        return List.of();
      }
      // kombu's producers announce nothing, so an idle claim looks again, backing off from 1 ms to
      // the poll interval; an enqueue in this process wakes it at once.
      long sleep = Math.min(pause, left);
      synchronized (waitLock) {
        long until = System.nanoTime() + sleep;
        while (wakeups == seen && !closed) {
          long ns = until - System.nanoTime();
          if (ns <= 0) {
            break;
          }
          TimeUnit.NANOSECONDS.timedWait(waitLock, ns);
        }
      }
      pause = Math.min(pause * 2, maxPause);
    }
  }

  private record Claimed(List<Delivery> deliveries, int popped) {}

  private Claimed claimOnce(List<String> queues, int max, Duration lease)
      throws InterruptedException {
    List<String> keys = new ArrayList<>(5 + queues.size() * 4);
    List<byte[]> args = new ArrayList<>(6 + queues.size() * 4);
    keys.addAll(List.of(fixedKeys));
    args.add(clock.scriptNow());
    args.add(bytes(Integer.toString(max)));
    args.add(bytes(Long.toString(lease.toMillis())));
    args.add(bytes(instance + "." + nonce.incrementAndGet()));
    args.add(bytes(dcPrefix()));
    args.add(bytes(ns + "paused"));
    for (String q : queues) {
      register(q);
      for (String k : CeleryWire.bucketKeys(q)) {
        keys.add(k);
        args.add(bytes(q));
      }
    }
    List<Object> out =
        redis.awaitInterruptibly(
            Script.CELERY_CLAIM.run(
                redis.claimAsync(),
                ScriptOutputType.MULTI,
                keys.toArray(String[]::new),
                args.toArray(byte[][]::new)),
            "claim");
    if (out.isEmpty()) {
      return new Claimed(List.of(), 0);
    }
    Instant now = clock.instant();
    Instant leaseEnd = now.plus(lease);
    List<Delivery> deliveries = new ArrayList<>(out.size());
    List<byte[]> park = new ArrayList<>();
    for (Object o : out) {
      List<?> item = (List<?>) o;
      String queue = text(item.get(0));
      byte[] raw = (byte[]) item.get(1);
      String receipt = text(item.get(2)) + " " + text(item.get(3));
      int count = ((Long) item.get(4)).intValue();
      try {
        CeleryWire.Read r = CeleryWire.read(raw, queue);
        if (r.eta() != null && r.eta().isAfter(now)) {
          park.add(item.get(3) instanceof byte[] b ? b : bytes(text(item.get(3))));
          park.add(bytes(text(item.get(2))));
          park.add(bytes(Long.toString(r.eta().toEpochMilli())));
          continue;
        }
        // The body stays Celery's envelope (for dead letters, and to be sent again as it was);
        // the worker takes the message already read.
        deliveries.add(
            new Delivery(
                r.id(), queue, r.errandPriority(), raw, count, receipt, leaseEnd, r.message()));
      } catch (CeleryWire.Malformed m) {
        deadLetter(queue, raw, receipt, count, m, now);
      }
    }
    if (!park.isEmpty()) {
      List<byte[]> pargs = new ArrayList<>(park.size() + 1);
      pargs.add(clock.scriptNow());
      pargs.addAll(park);
      redis.await(
          Script.CELERY_PARK.run(
              redis.async(), ScriptOutputType.MULTI, fixedKeys, pargs.toArray(byte[][]::new)),
          "park");
    }
    return new Claimed(deliveries, out.size());
  }

  /**
   * A message no worker can run: into the dead letters with why (first, so a crash in between
   * redelivers rather than loses it), then a FAILURE record Celery clients read, and off the queue.
   */
  private void deadLetter(
      String queue, byte[] raw, String receipt, int count, CeleryWire.Malformed m, Instant now) {
    String tag = tagOf(receipt);
    String id = m.taskId() != null ? m.taskId() : tag;
    String text = new String(raw, StandardCharsets.UTF_8);
    String body =
        text.indexOf('\uFFFD') >= 0 ? "base64:" + Base64.getEncoder().encodeToString(raw) : text;
    TaskError error = TaskError.of("MalformedCeleryMessage", m.getMessage());
    log.warn(
        "dead-lettered a malformed Celery message from queue [{}] (task id [{}]): {}",
        queue,
        id,
        m.getMessage());
    deadLetters.add(
        new DeadLetter(
            id,
            m.taskName(),
            queue,
            DeadLetterReason.UNDECODABLE,
            error,
            null,
            null,
            body,
            count,
            null,
            now));
    List<byte[]> args = new ArrayList<>();
    args.add(bytes(dcPrefix()));
    args.add(bytes(tag));
    args.add(bytes(receiptPart(receipt)));
    args.add(bytes("A"));
    args.add(new byte[0]);
    args.add(new byte[0]);
    if (m.taskId() != null) {
      args.add(bytes("1"));
      args.add(bytes(CeleryMeta.key(m.taskId())));
      args.add(
          CeleryMeta.write(
              new dev.errand.TaskStatus(
                  m.taskId(),
                  m.taskName(),
                  dev.errand.TaskState.FAILURE,
                  queue,
                  null,
                  error,
                  null,
                  null,
                  count,
                  null,
                  null,
                  null,
                  now,
                  null,
                  now),
              null,
              null));
      args.add(bytes(Long.toString(url.resultExpires().toSeconds())));
    } else {
      args.add(bytes("0"));
    }
    args.add(bytes("0"));
    redis.await(
        Script.CELERY_SETTLE.run(
            redis.async(), ScriptOutputType.MULTI, fixedKeys, args.toArray(byte[][]::new)),
        "dead-letter");
  }

  @Override
  public boolean ack(Delivery delivery) {
    return settleOne(delivery, "A", new byte[0], new byte[0]);
  }

  @Override
  public boolean release(Delivery delivery) {
    return settleOne(delivery, "L", new byte[0], new byte[0]);
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    byte[][] push = retryPush(delivery, body, notBefore);
    return settleOne(delivery, "R", push[0], push[1]);
  }

  /** The list key and the envelope of a retry of {@code delivery} with {@code body}. */
  byte[][] retryPush(Delivery delivery, byte[] body, Instant notBefore) {
    TaskMessage t = Wire.decodeMessage(body);
    TaskMessage sent = CeleryWire.routed(t, delivery.queue(), t.priority(), notBefore);
    return new byte[][] {
      bytes(CeleryWire.bucketKey(delivery.queue(), CeleryWire.toCelery(t.priority()))),
      CeleryWire.write(sent, CeleryWire.newTag(), clock.instant())
    };
  }

  private boolean settleOne(Delivery d, String ending, byte[] key, byte[] envelope) {
    List<Object> stale =
        redis.await(
            Script.CELERY_SETTLE.run(
                redis.async(),
                ScriptOutputType.MULTI,
                fixedKeys,
                bytes(dcPrefix()),
                bytes(tagOf(d.receipt())),
                bytes(receiptPart(d.receipt())),
                bytes(ending),
                key,
                envelope,
                bytes("0"),
                bytes("0")),
            "settle");
    return stale.isEmpty();
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    if (deliveries.isEmpty()) {
      return Set.of();
    }
    List<byte[]> args = new ArrayList<>(2 + deliveries.size() * 2);
    args.add(clock.scriptNow());
    args.add(bytes(Long.toString(lease.toMillis())));
    Map<String, String> idByTag = new HashMap<>();
    for (Delivery d : deliveries) {
      String tag = tagOf(d.receipt());
      idByTag.put(tag, d.id());
      args.add(bytes(tag));
      args.add(bytes(receiptPart(d.receipt())));
    }
    List<Object> stale =
        redis.await(
            Script.CELERY_RENEW.run(
                redis.async(), ScriptOutputType.MULTI, fixedKeys, args.toArray(byte[][]::new)),
            "renew");
    Set<String> lost = new HashSet<>();
    for (Object o : stale) {
      lost.add(idByTag.get(text(o)));
    }
    return lost;
  }

  @Override
  public void wakeup() {
    synchronized (waitLock) {
      wakeups++;
      waitLock.notifyAll();
    }
  }

  @Override
  public List<String> queues() {
    Set<String> names = new TreeSet<>(known);
    for (byte[] q : redis.await(redis.async().smembers(ns + "queues"), "queues")) {
      names.add(new String(q, StandardCharsets.UTF_8));
    }
    discoverBindings();
    names.addAll(discovered);
    return new ArrayList<>(names);
  }

  /**
   * Finds the queues Python producers and workers declared (kombu's {@code _kombu.binding.*} sets)
   * with a SCAN, which reads the whole key space: at most once a minute, and at most 100,000 keys
   * per look, going on from there the next time, so that a Redis holding millions of result records
   * is not scanned whole on every dashboard refresh. Queues Errand sent to or consumed are
   * registered as they are used and need no scan.
   */
  private void discoverBindings() {
    long now = System.nanoTime();
    if (now - lastDiscovery < DISCOVERY_INTERVAL.toNanos() && lastDiscovery != 0) {
      return;
    }
    synchronized (discoveryLock) {
      if (now - lastDiscovery < DISCOVERY_INTERVAL.toNanos() && lastDiscovery != 0) {
        return;
      }
      ScanCursor cursor = discoveryCursor;
      for (int rounds = 0; rounds < 100; rounds++) {
        KeyScanCursor<String> page =
            redis.await(
                redis
                    .async()
                    .scan(cursor, ScanArgs.Builder.matches(BINDING_PREFIX + "*").limit(1000)),
                "scan bindings");
        for (String key : page.getKeys()) {
          String exchange = key.substring(BINDING_PREFIX.length());
          if (exchange.equals("celeryev") || exchange.endsWith("pidbox")) {
            continue; // event and remote-control fan-outs, not task queues
          }
          List<byte[]> members = new ArrayList<>();
          try {
            members.addAll(redis.await(redis.async().smembers(key), "bindings"));
          } catch (RuntimeException e) {
            continue; // not a set: not kombu's
          }
          for (byte[] member : members) {
            String m = new String(member, StandardCharsets.UTF_8);
            int last = m.lastIndexOf(CeleryWire.SEP);
            if (last >= 0 && last + 2 < m.length()) {
              discovered.add(m.substring(last + 2));
            }
          }
        }
        cursor = page.isFinished() ? ScanCursor.INITIAL : page;
        if (page.isFinished()) {
          break;
        }
      }
      discoveryCursor = cursor;
      lastDiscovery = System.nanoTime();
    }
  }

  /** Records a queue this process sends to or consumes, for {@link #queues()}: once per queue. */
  private void register(String queue) {
    if (known.add(queue)) {
      redis.async().sadd(ns + "queues", bytes(queue));
    }
  }

  @Override
  public QueueStats stats(String queue) {
    String[] keys = new String[9];
    System.arraycopy(fixedKeys, 0, keys, 0, 5);
    System.arraycopy(CeleryWire.bucketKeys(queue), 0, keys, 5, 4);
    List<Object> out =
        redis.await(
            Script.CELERY_STATS.run(
                redis.async(),
                ScriptOutputType.MULTI,
                keys,
                clock.scriptNow(),
                bytes(queue),
                bytes(ns + "paused")),
            "stats");
    Map<Integer, Long> byPriority = new LinkedHashMap<>();
    int[] errandPriority = {5, 4, 2, 0};
    long ready = 0;
    for (int i = 0; i < 4; i++) {
      long n = (Long) out.get(i);
      ready += n;
      if (n > 0) {
        byPriority.put(errandPriority[i], n);
      }
    }
    return new QueueStats(
        queue,
        ready,
        (Long) out.get(4),
        (Long) out.get(5),
        byPriority,
        null,
        (Long) out.get(6) == 1,
        0);
  }

  @Override
  public void pause(String queue) {
    redis.await(redis.async().sadd(ns + "paused", bytes(queue)), "pause");
  }

  @Override
  public void resume(String queue) {
    redis.await(redis.async().srem(ns + "paused", bytes(queue)), "resume");
  }

  @Override
  public List<String> pausedQueues() {
    List<String> names = new ArrayList<>();
    for (byte[] b : redis.await(redis.async().smembers(ns + "paused"), "paused queues")) {
      names.add(new String(b, StandardCharsets.UTF_8));
    }
    names.sort(null);
    return names;
  }

  @Override
  public List<LimitStats> limits(String queue, int max) {
    return List.of();
  }

  @Override
  public long purge(String queue) {
    String[] keys = CeleryWire.bucketKeys(queue);
    long n = 0;
    for (String k : keys) {
      n += redis.await(redis.async().llen(k), "purge");
    }
    redis.await(redis.async().del(keys), "purge");
    return n;
  }

  /** Keeps Java's holds fresh for Celery, and restores what crashed Celery workers left. */
  private void startMaintenance() {
    if (maintenance != null || closed) {
      return;
    }
    synchronized (this) {
      if (maintenance != null || closed) {
        return;
      }
      try {
        onFirstClaim.run();
      } catch (RuntimeException e) {
        log.warn("could not listen for Celery's revoke broadcasts: {}", e.toString());
      }
      ScheduledExecutorService s =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "errand-celery-maintenance");
                t.setDaemon(true);
                return t;
              });
      s.scheduleWithFixedDelay(
          this::refreshQuietly, REFRESH.toMillis(), REFRESH.toMillis(), TimeUnit.MILLISECONDS);
      if (url.restoreUnacked()) {
        long every =
            Math.max(1_000, Math.min(RESTORE.toMillis(), url.visibilityTimeout().toMillis() / 2));
        s.scheduleWithFixedDelay(
            this::restoreQuietly, Math.min(2_000, every), every, TimeUnit.MILLISECONDS);
      }
      maintenance = s;
    }
  }

  private void refreshQuietly() {
    try {
      redis.await(
          Script.CELERY_REFRESH.run(
              redis.async(), ScriptOutputType.INTEGER, fixedKeys, clock.scriptNow()),
          "refresh");
    } catch (RuntimeException e) {
      log.debug("refreshing Celery holds failed: {}", e.toString());
    }
  }

  private void restoreQuietly() {
    try {
      int n = restoreAbandoned();
      if (n > 0) {
        log.info(
            "restored {} Celery message(s) held past the visibility timeout ({}) by workers that"
                + " are gone",
            n,
            url.visibilityTimeout());
      }
    } catch (RuntimeException e) {
      log.debug("restoring abandoned Celery messages failed: {}", e.toString());
    }
  }

  /**
   * kombu's {@code restore_visible}: under its mutex, every {@code unacked} entry older than the
   * visibility timeout that no Java worker holds goes back to the front of its queue, marked
   * redelivered. Celery workers do this at start and every 100 s; Errand does it too, so that a
   * fleet left with Java workers only still recovers what a killed Celery worker held.
   *
   * @return how many were restored
   */
  public int restoreAbandoned() {
    String token = UUID.randomUUID().toString();
    String ok =
        redis.await(
            redis.async().set(UNACKED_MUTEX, bytes(token), SetArgs.Builder.nx().px(300_000)),
            "restore lock");
    if (!"OK".equals(ok)) {
      return 0;
    }
    int restored = 0;
    try {
      double ceiling = (clock.millis() - url.visibilityTimeout().toMillis()) / 1000.0;
      List<byte[]> tags =
          redis.await(
              redis
                  .async()
                  .zrevrangebyscore(
                      UNACKED_INDEX,
                      io.lettuce.core.Range.create(0.0, ceiling),
                      io.lettuce.core.Limit.create(0, 1000)),
              "restore scan");
      for (byte[] tagBytes : tags) {
        String tag = new String(tagBytes, StandardCharsets.UTF_8);
        byte[] entry = redis.await(redis.async().hget(UNACKED, tag), "restore read");
        if (entry == null) {
          redis.await(redis.async().zrem(UNACKED_INDEX, tagBytes), "restore");
          continue;
        }
        byte[][] push = restoredEnvelope(entry);
        if (push == null) {
          continue; // not kombu's shape, or routed through an exchange: Celery's to restore
        }
        String[] keys = new String[6];
        System.arraycopy(fixedKeys, 0, keys, 0, 5);
        keys[5] = new String(push[0], StandardCharsets.UTF_8);
        Long n =
            redis.await(
                Script.CELERY_RESTORE.run(
                    redis.async(), ScriptOutputType.INTEGER, keys, tagBytes, entry, push[1]),
                "restore");
        restored += n.intValue();
      }
    } finally {
      redis.await(
          redis
              .async()
              .eval(
                  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1])"
                      + " end return 0",
                  ScriptOutputType.INTEGER,
                  new String[] {UNACKED_MUTEX},
                  bytes(token)),
          "restore unlock");
    }
    return restored;
  }

  /** {list key, envelope marked redelivered} of a kombu {@code unacked} entry, or null. */
  private static byte[][] restoredEnvelope(byte[] entry) {
    try {
      JsonNode e = Wire.mapper().readTree(entry);
      if (e == null || !e.isArray() || e.size() != 3 || !e.get(0).isObject()) {
        return null;
      }
      String exchange = e.get(1).asText("");
      String routingKey = e.get(2).asText("");
      if (!exchange.isEmpty() || routingKey.isEmpty()) {
        return null;
      }
      com.fasterxml.jackson.databind.node.ObjectNode env =
          (com.fasterxml.jackson.databind.node.ObjectNode) e.get(0);
      if (env.path("headers").isObject()) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) env.get("headers"))
            .put("redelivered", true);
      }
      JsonNode info = env.path("properties").path("delivery_info");
      if (info.isObject()) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) info).put("redelivered", true);
      }
      return new byte[][] {bytes(routingKey), Wire.mapper().writeValueAsBytes(env)};
    } catch (java.io.IOException | RuntimeException ex) {
      return null;
    }
  }

  @Override
  public void close() {
    closed = true;
    wakeup();
    ScheduledExecutorService s = maintenance;
    if (s != null) {
      s.shutdownNow();
    }
  }

  static String tagOf(String receipt) {
    int space = receipt.indexOf(' ');
    return space < 0 ? receipt : receipt.substring(space + 1);
  }

  static String receiptPart(String receipt) {
    int space = receipt.indexOf(' ');
    return space < 0 ? receipt : receipt.substring(0, space);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
  }
}
