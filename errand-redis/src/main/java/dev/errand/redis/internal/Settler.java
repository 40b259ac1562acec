package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.text;

import dev.errand.DeadLetter;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.TaskQuery;
import dev.errand.wire.Wire;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Applies settlements ({@link dev.errand.spi.Backend#settle}) with {@code settle.lua}: one script
 * call for a batch (chunks of {@value #CHUNK} settlements for a larger one, pipelined), which
 * checks each settlement's receipt and applies all of it or none. The script plans the whole call
 * before it writes anything, so a failing call leaves its settlements unapplied. Thread-safe.
 */
public final class Settler implements AutoCloseable {

  /** Settlements per script call: bounds how long one call holds Redis. */
  static final int CHUNK = 256;

  private static final byte[] EMPTY = new byte[0];
  private static final byte[] ONE = bytes("1");
  private static final byte[] ZERO = bytes("0");
  private static final byte[] ACK = bytes("A");
  private static final byte[] RELEASE = bytes("L");
  private static final byte[] RETRY = bytes("R");
  private static final byte[] KEEP = bytes("K");
  private static final byte[] TRIM_EXTRA = num(TaskIndex.WRITE_TRIM_EXTRA);

  // Counts and priorities, which every settlement sends, without an array each.
  private static final byte[][] SMALL = new byte[CHUNK + 1][];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = num(i);
    }
  }

  private final Redis redis;
  private final RedisClock clock;
  private final Notifier notifier;
  private final RedisBroker broker;
  private final String[] scriptKeys;
  private final byte[] prefix;
  private final SlotSettler slots; // on Redis Cluster only

  public Settler(
      Redis redis,
      Keys keys,
      RedisClock clock,
      Notifier notifier,
      RedisBroker broker,
      RedisResultStore results,
      RedisDeadLetters deadLetters) {
    this.redis = redis;
    this.clock = clock;
    this.notifier = notifier;
    this.broker = broker;
    this.scriptKeys =
        new String[] {
          keys.taskIndexMeta(),
          keys.taskIndexExpiry(),
          keys.deadLetters(),
          keys.deadIndex(),
          keys.deadQueues(),
          keys.deadCounter(),
          keys.queues()
        };
    this.prefix = bytes(keys.prefix());
    this.slots =
        redis.cluster()
            ? new SlotSettler(redis, keys, clock, broker, results, deadLetters, this)
            : null;
  }

  /**
   * Applies {@code batch} (see {@link dev.errand.spi.Backend#settle}); returns the ids whose
   * receipt was stale.
   *
   * @param failAfter for tests: the step after whose planning the script fails, before any write of
   *     the batch (then sent as one call); null, or {@link Settlement.Step#COMMITTED}, for none
   * @throws dev.errand.BackendException if a call failed; each of its settlements was then applied
   *     whole or not at all (a failed call applies none)
   */
  public Set<String> settle(List<Settlement> batch, Duration ttl, Settlement.Step failAfter) {
    Objects.requireNonNull(batch, "batch");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    if (batch.isEmpty()) {
      return Set.of();
    }
    byte[] fault =
        failAfter == null || failAfter == Settlement.Step.COMMITTED
            ? EMPTY
            : bytes(failAfter.name());
    if (slots != null) {
      Set<String> stale = slots.settle(batch, ttl, fault);
      redis.awaitReplicas(null, "settle task outcomes");
      if (mayWake(batch)) {
        notifier.bump();
      }
      return stale;
    }
    // An injected failure fails the whole batch: then it is one call.
    int chunk = fault.length > 0 ? batch.size() : CHUNK;
    long now = clock.millis();
    long ttlMillis = ttl.toMillis();
    List<CompletableFuture<List<Object>>> calls = new ArrayList<>(batch.size() / chunk + 1);
    boolean wakes = false;
    for (int from = 0; from < batch.size(); from += chunk) {
      List<Settlement> part = batch.subList(from, Math.min(batch.size(), from + chunk));
      wakes |= mayWake(part);
      calls.add(
          Script.SETTLE.run(
              redis.async(),
              ScriptOutputType.MULTI,
              scriptKeys,
              arguments(part, now, ttlMillis, fault)));
    }
    Set<String> stale = new LinkedHashSet<>();
    RuntimeException failure = null;
    for (CompletableFuture<List<Object>> call : calls) {
      try {
        read(redis.await(call, "settle task outcomes"), stale);
      } catch (RuntimeException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (wakes) {
      notifier.bump(); // claimers of this process need not wait for the pub/sub echo
    }
    if (failure != null) {
      throw failure;
    }
    redis.awaitReplicas(null, "settle task outcomes");
    return stale;
  }

  void read(List<Object> reply, Set<String> stale) {
    for (Object id : (List<?>) reply.get(0)) {
      stale.add(text(id));
    }
    List<?> foreign = (List<?>) reply.get(1);
    for (int i = 0; i + 1 < foreign.size(); i += 2) {
      broker.foreignValues(text(foreign.get(i)), List.of(text(foreign.get(i + 1))));
    }
  }

  /**
   * Redis Cluster only (tests): the next settle ends its deliveries and writes their outbox
   * entries, then fails as if the process died before applying them.
   */
  public void dieAfterEndings() {
    slots.dieAfterEndings();
  }

  /**
   * Redis Cluster only: applies the outbox entries older than {@code grace} of the queues this
   * process consumes, as the background sweep does every {@value SlotSettler#SWEEP_SECONDS} s.
   */
  public void sweepOutboxes(Duration grace) {
    slots.sweep(grace.toMillis());
  }

  @Override
  public void close() {
    if (slots != null) {
      slots.close();
    }
  }

  /** Whether applying {@code part} may make messages ready: a claimer should look again. */
  private static boolean mayWake(List<Settlement> part) {
    for (Settlement s : part) {
      if (!s.followUps().isEmpty()
          || s.chordPart() != null
          || (s.ending() != null
              && !(s.ending() instanceof Settlement.Ending.Ack
                  || s.ending() instanceof Settlement.Ending.Keep))) {
        return true;
      }
    }
    return false;
  }

  /** The script's ARGV (see {@code settle.lua}), in one array. */
  private byte[][] arguments(List<Settlement> part, long now, long ttlMillis, byte[] fault) {
    return arguments(part, now, ttlMillis, fault, null);
  }

  /**
   * The script's ARGV; with {@code outbox} (Redis Cluster) each settlement's parts outside its
   * queue's slot are left out, and {@code outbox[k]} (null for none) goes in its outbox field.
   */
  byte[][] arguments(
      List<Settlement> part, long now, long ttlMillis, byte[] fault, byte[][] outbox) {
    int n = 7;
    for (Settlement s : part) {
      n += 16;
      if (outbox == null) {
        n += 5 * s.statuses().size() + 9 * s.followUps().size();
      }
    }
    long expiresAt = now + ttlMillis;
    byte[][] a = new byte[n][];
    int i = 0;
    a[i++] = prefix;
    a[i++] = clock.scriptNow();
    a[i++] = num(now);
    a[i++] = num(Math.max(1, ttlMillis));
    a[i++] = TRIM_EXTRA;
    a[i++] = fault;
    a[i++] = small(part.size());
    for (int k = 0; k < part.size(); k++) {
      Settlement s = part.get(k);
      if (outbox != null) {
        i = deliveryArguments(s, a, i);
        for (int e = 0; e < 4; e++) {
          a[i++] = EMPTY; // dead letter
        }
        a[i++] = ZERO; // statuses
        a[i++] = ZERO; // follow-ups
        for (int e = 0; e < 3; e++) {
          a[i++] = EMPTY; // chord part
        }
        a[i++] = outbox[k] == null ? EMPTY : outbox[k];
        continue;
      }
      i = deliveryArguments(s, a, i);
      DeadLetter dl = s.deadLetter();
      if (dl == null) {
        for (int e = 0; e < 4; e++) {
          a[i++] = EMPTY;
        }
      } else {
        a[i++] = bytes(dl.id());
        a[i++] = bytes(dl.queue());
        a[i++] = num(dl.failedAt().toEpochMilli());
        a[i++] = Wire.encodeDeadLetter(dl);
      }
      a[i++] = small(s.statuses().size());
      for (TaskStatus st : s.statuses()) {
        a[i++] = bytes(st.id());
        a[i++] = Codec.withExpiry(expiresAt, Wire.encodeStatus(st));
        a[i++] = num(TaskQuery.Cursor.millis(st));
        a[i++] = TaskIndex.meta(st, expiresAt);
        a[i++] = st.state().isReady() ? ONE : ZERO;
      }
      a[i++] = small(s.followUps().size());
      for (NewMessage m : s.followUps()) {
        a[i++] = bytes(broker.physicalFor(m));
        a[i++] = bytes(m.id());
        a[i++] = small(m.priority());
        a[i++] = m.body();
        a[i++] = num(m.notBefore() == null ? 0 : m.notBefore().toEpochMilli());
        a[i++] = m.idempotencyKey() == null ? EMPTY : bytes(m.idempotencyKey());
        a[i++] = m.idempotencyKey() == null ? ZERO : num(m.idempotencyWindow().toMillis());
        a[i++] = m.limit() == null ? EMPTY : RedisFlowControl.limitSpec(m.limit());
        a[i++] = m.uniqueKey() == null ? EMPTY : bytes(m.uniqueKey());
      }
      Settlement.ChordPart c = s.chordPart();
      if (c == null) {
        a[i++] = EMPTY;
        a[i++] = EMPTY;
        a[i++] = EMPTY;
      } else {
        a[i++] = bytes(c.chordId());
        a[i++] = small(c.index());
        a[i++] = c.failed() ? ONE : ZERO;
      }
      a[i++] = EMPTY; // outbox entry
    }
    return a;
  }

  /** The delivery and its ending: six arguments from {@code a[i]}; returns the next index. */
  private static int deliveryArguments(Settlement s, byte[][] a, int i) {
    Delivery d = s.delivery();
    if (d == null) {
      for (int k = 0; k < 6; k++) {
        a[i++] = EMPTY;
      }
      return i;
    }
    a[i++] = bytes(QueueShards.physical(d));
    a[i++] = bytes(d.id());
    a[i++] = bytes(d.receipt());
    if (s.ending() instanceof Settlement.Ending.Retry r) {
      a[i++] = RETRY;
      a[i++] = r.body();
      a[i++] = num(r.notBefore().toEpochMilli());
    } else {
      a[i++] =
          s.ending() instanceof Settlement.Ending.Release
              ? RELEASE
              : s.ending() instanceof Settlement.Ending.Keep ? KEEP : ACK;
      a[i++] = EMPTY;
      a[i++] = EMPTY;
    }
    return i;
  }

  private static byte[] small(int n) {
    return n >= 0 && n < SMALL.length ? SMALL[n] : num(n);
  }
}
