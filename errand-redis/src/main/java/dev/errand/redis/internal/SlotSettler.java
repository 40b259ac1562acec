package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.text;

import dev.errand.DeadLetter;
import dev.errand.TaskStatus;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies settlements on Redis Cluster, where one script may only touch keys of one hash slot, so
 * {@code settle.lua} cannot check a receipt and write statuses, dead letters, follow-ups and chord
 * parts (each in its own slot) in one call. Instead, per queue:
 *
 * <ol>
 *   <li>{@code settle.lua} runs on the queue's slot with the deliveries only: it checks each
 *       receipt and ends the delivery (ack, release, retry, keep), and in the same atomic call
 *       writes the settlement's other parts as an {@link OutboxEntry} into the queue's outbox hash.
 *   <li>This process then applies each entry slot by slot (dead letter, statuses with their index
 *       and notifications, follow-ups, chord part and, when it completes the chord, the callback)
 *       and deletes it. Every step is idempotent: a status is replaced, a dead letter replaced, a
 *       follow-up skipped when its id is in its queue, a chord part recorded by index.
 *   <li>If the process dies between the two, the entry stays: every process sweeps the outboxes of
 *       the queues it consumes every {@value #SWEEP_SECONDS} s and applies entries older than
 *       {@value #GRACE_MILLIS} ms.
 * </ol>
 *
 * <p>So nothing a settlement holds is lost, but its parts become visible one after another within
 * milliseconds (not all at once, as on one server), and, after such a crash, up to the grace period
 * late. A follow-up whose entry is applied again after the follow-up already ran and was acked is
 * enqueued again (at-least-once). Settlements without a delivery have nothing to check and are
 * applied directly. Thread-safe.
 */
final class SlotSettler implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SlotSettler.class);

  static final int SWEEP_SECONDS = 15;
  static final long GRACE_MILLIS = 30_000;
  private static final int SWEEP_MAX = 200;
  private static final byte[] SWEEP_MAX_ARG = num(SWEEP_MAX);

  private final Redis redis;
  private final Keys keys;
  private final RedisClock clock;
  private final RedisBroker broker;
  private final RedisResultStore results;
  private final RedisDeadLetters deadLetters;
  private final Settler settler;
  private final ScheduledExecutorService sweeper;
  private volatile boolean dieAfterEndings; // tests: play a process that dies after the scripts

  SlotSettler(
      Redis redis,
      Keys keys,
      RedisClock clock,
      RedisBroker broker,
      RedisResultStore results,
      RedisDeadLetters deadLetters,
      Settler settler) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.broker = broker;
    this.results = results;
    this.deadLetters = deadLetters;
    this.settler = settler;
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "errand-redis-outbox-sweeper");
              t.setDaemon(true);
              return t;
            });
    sweeper.scheduleWithFixedDelay(
        this::sweepQuietly, SWEEP_SECONDS, SWEEP_SECONDS, TimeUnit.SECONDS);
  }

  /** See {@link Settler#settle}; {@code fault} as the script takes it. */
  Set<String> settle(List<Settlement> batch, Duration ttl, byte[] fault) {
    long now = clock.millis();
    long ttlMillis = ttl.toMillis();
    Map<String, List<Integer>> byQueue = new LinkedHashMap<>();
    List<Settlement> direct = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      Settlement s = batch.get(i);
      if (s.delivery() == null) {
        direct.add(s);
      } else {
        byQueue.computeIfAbsent(QueueShards.physical(s.delivery()), q -> new ArrayList<>()).add(i);
      }
    }
    int chunk = fault.length > 0 ? batch.size() : Settler.CHUNK;
    List<Call> calls = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> e : byQueue.entrySet()) {
      String outbox = keys.outbox(e.getKey());
      String[] scriptKeys = new String[7];
      java.util.Arrays.fill(scriptKeys, outbox);
      List<Integer> all = e.getValue();
      for (int from = 0; from < all.size(); from += chunk) {
        List<Settlement> part = new ArrayList<>();
        List<OutboxEntry> entries = new ArrayList<>();
        byte[][] encoded = new byte[Math.min(chunk, all.size() - from)][];
        for (int k = 0; k < encoded.length; k++) {
          Settlement s = batch.get(all.get(from + k));
          part.add(s);
          OutboxEntry entry = OutboxEntry.of(s, ttlMillis);
          entries.add(entry);
          encoded[k] = entry == null ? null : entry.encode();
        }
        calls.add(
            new Call(
                e.getKey(),
                part,
                entries,
                Script.SETTLE.run(
                    redis.async(),
                    ScriptOutputType.MULTI,
                    scriptKeys,
                    settler.arguments(part, now, ttlMillis, fault, encoded))));
      }
    }
    if (fault.length > 0 && calls.isEmpty() && !direct.isEmpty()) {
      // as the script would: the first settlement fails before anything is written
      throw new dev.errand.BackendException(
          "injected failure after " + text(fault) + " (nothing applied)", null);
    }
    Set<String> stale = new LinkedHashSet<>();
    RuntimeException failure = null;
    List<OutboxEntry> toApply = new ArrayList<>();
    Map<String, List<String>> applied = new LinkedHashMap<>();
    for (Call c : calls) {
      List<Object> reply;
      try {
        reply = redis.await(c.reply(), "settle task outcomes");
        settler.read(reply, stale);
      } catch (RuntimeException e) {
        failure = failure == null ? e : failure;
        continue;
      }
      Set<String> written = new java.util.HashSet<>();
      for (Object field : (List<?>) reply.get(2)) {
        written.add(text(field));
      }
      for (int k = 0; k < c.part().size(); k++) {
        String field = c.part().get(k).delivery().receipt() + "#" + (k + 1);
        if (written.contains(field)) {
          toApply.add(c.entries().get(k));
          applied.computeIfAbsent(c.queue(), q -> new ArrayList<>()).add(field);
        }
      }
    }
    if (failure == null || fault.length == 0) {
      for (Settlement s : direct) {
        OutboxEntry entry = OutboxEntry.of(s, ttlMillis);
        if (entry != null) {
          toApply.add(entry);
        }
      }
    }
    if (dieAfterEndings) {
      dieAfterEndings = false;
      throw new dev.errand.BackendException(
          "injected death after the endings (the outbox entries are left for the sweep)", null);
    }
    apply(toApply);
    delete(applied);
    if (failure != null) {
      throw failure;
    }
    return stale;
  }

  private record Call(
      String queue,
      List<Settlement> part,
      List<OutboxEntry> entries,
      CompletableFuture<List<Object>> reply) {}

  /**
   * Applies {@code entries} slot by slot: dead letters, statuses and chord parts pipelined, then
   * the follow-ups, then the callbacks of the chords the parts completed (after the statuses they
   * read).
   */
  void apply(List<OutboxEntry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    List<CompletableFuture<?>> sent = new ArrayList<>();
    List<NewMessage> followUps = new ArrayList<>();
    Map<Long, List<TaskStatus>> statusesByTtl = new LinkedHashMap<>();
    for (OutboxEntry e : entries) {
      DeadLetter dl = e.deadLetter();
      if (dl != null) {
        sent.add(deadLetters.send(dl));
      }
      if (!e.statuses().isEmpty()) {
        statusesByTtl.computeIfAbsent(e.ttlMillis(), t -> new ArrayList<>()).addAll(e.statuses());
      }
      followUps.addAll(e.followUps());
    }
    for (Map.Entry<Long, List<TaskStatus>> s : statusesByTtl.entrySet()) {
      sent.addAll(results.sendAll(s.getValue(), Duration.ofMillis(Math.max(1, s.getKey()))));
    }
    List<CompletableFuture<List<Object>>> parts = new ArrayList<>();
    long storeNow = clock.millis();
    for (OutboxEntry e : entries) {
      Settlement.ChordPart c = e.chordPart();
      if (c != null) {
        parts.add(
            Script.CHORD_PART.run(
                redis.async(),
                ScriptOutputType.MULTI,
                new String[] {keys.chord(c.chordId()), keys.chordParts(c.chordId())},
                num(storeNow),
                num(Math.max(1, e.ttlMillis())),
                num(c.index()),
                bytes(c.failed() ? "1" : "0")));
      }
    }
    for (CompletableFuture<?> f : sent) {
      redis.await(f, "apply a settlement's outbox entry");
    }
    if (!followUps.isEmpty()) {
      broker.enqueueFollowUps(followUps);
    }
    List<NewMessage> callbacks = new ArrayList<>();
    for (CompletableFuture<List<Object>> f : parts) {
      List<Object> cb = redis.await(f, "record a chord part");
      if (!cb.isEmpty() && cb.get(0) != null) {
        callbacks.add(callback(cb));
      }
    }
    if (!callbacks.isEmpty()) {
      broker.enqueueFollowUps(callbacks);
    }
  }

  private static NewMessage callback(List<Object> cb) {
    long notBefore = Long.parseLong(text(cb.get(4)));
    String key = text(cb.get(5));
    return new NewMessage(
        text(cb.get(1)),
        text(cb.get(0)),
        Integer.parseInt(text(cb.get(2))),
        (byte[]) cb.get(3),
        notBefore == 0 ? null : Instant.ofEpochMilli(notBefore),
        key.isEmpty() ? null : key,
        key.isEmpty() ? null : Duration.ofMillis(Long.parseLong(text(cb.get(6)))));
  }

  private void delete(Map<String, List<String>> fields) {
    List<CompletableFuture<Long>> sent = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : fields.entrySet()) {
      sent.add(
          redis
              .async()
              .hdel(keys.outbox(e.getKey()), e.getValue().toArray(String[]::new))
              .toCompletableFuture());
    }
    for (CompletableFuture<Long> f : sent) {
      redis.await(f, "delete applied outbox entries");
    }
  }

  /**
   * Applies what the outboxes of the queues this process consumes hold for longer than the grace
   * period: entries whose writer died before applying them.
   */
  void sweep(long graceMillis) {
    for (String queue : broker.consumedQueues()) {
      List<Object> taken =
          redis.await(
              Script.OUTBOX_TAKE.run(
                  redis.async(),
                  ScriptOutputType.MULTI,
                  new String[] {keys.outbox(queue)},
                  clock.scriptNow(),
                  num(graceMillis),
                  SWEEP_MAX_ARG),
              "take old outbox entries");
      if (taken.isEmpty()) {
        continue;
      }
      List<OutboxEntry> entries = new ArrayList<>();
      List<String> fields = new ArrayList<>();
      for (int i = 0; i + 1 < taken.size(); i += 2) {
        String field = text(taken.get(i));
        byte[] raw = (byte[]) taken.get(i + 1);
        try {
          entries.add(OutboxEntry.decode(raw));
        } catch (IllegalArgumentException e) {
          undecodable(queue, field, raw, e);
        }
        fields.add(field);
      }
      log.warn(
          "applying {} settlement(s) of queue {} that a process left unapplied (it died or lost"
              + " Redis after ending their deliveries)",
          entries.size(),
          queue);
      apply(entries);
      delete(Map.of(queue, fields));
    }
  }

  /**
   * An outbox entry this version cannot read (another program wrote it, or a later Errand) goes to
   * the dead letters with the reason, where an operator sees it, and is then deleted.
   */
  private void undecodable(String queue, String field, byte[] raw, IllegalArgumentException e) {
    deadLetters.add(
        new DeadLetter(
            "outbox-" + java.util.UUID.randomUUID(),
            null,
            QueueShards.logical(queue),
            dev.errand.DeadLetterReason.UNDECODABLE,
            dev.errand.TaskError.of(
                "InvalidOutboxEntry",
                "the outbox entry "
                    + field
                    + " of queue "
                    + queue
                    + " cannot be read, so its statuses, dead letter, follow-ups and chord part"
                    + " were not applied: "
                    + e.getMessage()),
            null,
            null,
            dev.errand.wire.Wire.bodyText(raw),
            1,
            null,
            clock.instant()));
    log.error(
        "outbox entry {} of queue {} cannot be read; moved it to the dead letters: {}",
        field,
        queue,
        e.getMessage());
  }

  private void sweepQuietly() {
    try {
      sweep(GRACE_MILLIS);
    } catch (RuntimeException e) {
      log.debug("outbox sweep failed, trying again in {} s: {}", SWEEP_SECONDS, e.toString());
    }
  }

  /** Makes the next settle stop after its scripts, as if the process died there (tests). */
  void dieAfterEndings() {
    dieAfterEndings = true;
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
