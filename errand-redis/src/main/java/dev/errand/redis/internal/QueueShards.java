package dev.errand.redis.internal;

import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import io.lettuce.core.cluster.SlotHash;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Sharded queues: one logical queue spread over N physical queues, each with a hash tag of its own,
 * so that on Redis Cluster a hot queue uses several masters. Thread-safe.
 *
 * <p><b>Names.</b> Shard {@code i} of {@code n} of queue {@code q} is the physical queue {@code "q
 * n/i/k"} (a space cannot be in a queue name, so no user queue has such a name), with {@code k} the
 * smallest number that puts its hash tag in the {@code i}-th of {@code n} equal ranges of the
 * 16,384 slots: on a cluster whose masters hold equal contiguous slot ranges (as {@code redis-cli
 * --cluster create} makes them), {@code n} equal to the number of masters puts one shard on each.
 * With {@code n = 1} the physical queue is the logical one: an unsharded queue keeps its keys.
 *
 * <p><b>Routing.</b> A message goes to the shard of its limit key if it has one (so a rate or
 * concurrency limit is counted in one place), else of its unique key, else of its idempotency key
 * (so duplicates meet), else of its id. Claims take from every shard, starting at the next one on
 * each claim. A delivery's receipt carries its shard ({@code ...~n/i/k.seq}), so ack, renew, retry
 * and settle find its keys, while the delivery names the logical queue.
 *
 * <p><b>Layout.</b> The shard counts are stored in the hash {@code PREFIX:{queues}:shards}: queue →
 * {@code n[;old@sinceMs]...}. Changing {@code n} keeps the old count as draining: producers use the
 * new shards at once (within {@value #CACHE_MILLIS} ms in other processes), consumers keep claiming
 * from the old ones until they have been empty for a minute, and then forget them.
 */
public final class QueueShards {

  /** The most shards a queue may have. */
  public static final int MAX = 256;

  /** How long a process uses a layout before reading it again, in ms. */
  static final long CACHE_MILLIS = 5_000;

  private static final int SLOTS = SlotHash.SLOT_COUNT;

  private final Map<String, Layout> layouts = new ConcurrentHashMap<>();
  private final Map<String, List<String>> names = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> rotation = new ConcurrentHashMap<>();
  private final java.util.function.Function<String, String> read;

  /**
   * @param read reads a queue's stored layout ({@code n[;old@ms]...}), or null when it has none
   */
  QueueShards(java.util.function.Function<String, String> read) {
    this.read = read;
  }

  /**
   * A queue's layout: its shard count and the counts still draining.
   *
   * @param shards the current count, 1 for an unsharded queue
   * @param draining earlier counts whose shards are still claimed from, with since when (ms)
   */
  record Layout(int shards, List<Draining> draining, long loadedAt) {

    /**
     * Reads a stored layout; one Errand did not write (another program's value) reads as unsharded,
     * with an ERROR naming it, rather than failing every enqueue to the queue.
     */
    static Layout parse(String value, long now) {
      if (value == null || value.isEmpty()) {
        return new Layout(1, List.of(), now);
      }
      try {
        Layout l = strictParse(value, now);
        if (l.shards() >= 1 && l.shards() <= MAX) {
          return l;
        }
      } catch (RuntimeException e) {
        // reported below
      }
      LoggerFactory.getLogger(QueueShards.class)
          .error(
              "a queue's shard layout '{}' is not one Errand wrote; using the queue unsharded until"
                  + " it is set again (errand queue shards)",
              value);
      return new Layout(1, List.of(), now);
    }

    private static Layout strictParse(String value, long now) {
      String[] parts = value.split(";");
      List<Draining> draining = new ArrayList<>();
      for (int i = 1; i < parts.length; i++) {
        int at = parts[i].indexOf('@');
        int n = Integer.parseInt(parts[i].substring(0, at));
        if (n < 1 || n > MAX) {
          throw new IllegalArgumentException("shard count " + n);
        }
        draining.add(new Draining(n, Long.parseLong(parts[i].substring(at + 1))));
      }
      return new Layout(Integer.parseInt(parts[0]), List.copyOf(draining), now);
    }

    String format() {
      StringBuilder b = new StringBuilder().append(shards);
      for (Draining d : draining) {
        b.append(';').append(d.shards()).append('@').append(d.since());
      }
      return b.toString();
    }
  }

  /** An earlier shard count whose shards may still hold messages. */
  record Draining(int shards, long since) {}

  /** The layout of {@code queue}, read again when older than {@value #CACHE_MILLIS} ms. */
  Layout layout(String queue) {
    long now = System.currentTimeMillis();
    Layout l = layouts.get(queue);
    if (l == null || now - l.loadedAt() > CACHE_MILLIS) {
      l = Layout.parse(read.apply(queue), now);
      layouts.put(queue, l);
    }
    return l;
  }

  /** Forgets every cached layout (another process changed one). */
  void invalidate() {
    layouts.clear();
  }

  /** The physical queues of shard count {@code n} of {@code queue}, shard 0 first. */
  List<String> names(String queue, int n) {
    if (n == 1) {
      return List.of(queue);
    }
    return names.computeIfAbsent(queue + "\n" + n, k -> computeNames(queue, n));
  }

  private static List<String> computeNames(String queue, int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int from = (int) ((long) i * SLOTS / n);
      int to = (int) ((long) (i + 1) * SLOTS / n);
      for (int k = 0; ; k++) {
        String name = queue + " " + n + "/" + i + "/" + k;
        int slot = SlotHash.getSlot("{" + name + "}");
        if (slot >= from && slot < to) {
          out.add(name);
          break;
        }
      }
    }
    return List.copyOf(out);
  }

  /** The physical queue {@code m} goes to. */
  String forEnqueue(NewMessage m) {
    String queue = logical(m.queue());
    Layout l = layout(queue);
    if (l.shards() == 1) {
      return queue;
    }
    String key =
        m.limit() != null
            ? m.limit().key()
            : m.uniqueKey() != null
                ? m.uniqueKey()
                : m.idempotencyKey() != null ? m.idempotencyKey() : m.id();
    return names(queue, l.shards()).get(Math.floorMod(key.hashCode(), l.shards()));
  }

  /**
   * The physical queues to claim from for {@code queues}, in order: each queue's current shards,
   * starting at the next one since the last claim, then its draining ones.
   */
  List<String> forClaim(List<String> queues) {
    List<String> out = new ArrayList<>(queues.size());
    for (String q : queues) {
      Layout l = layout(q);
      if (l.shards() == 1 && l.draining().isEmpty()) {
        out.add(q);
        continue;
      }
      List<String> current = names(q, l.shards());
      int start =
          Math.floorMod(
              rotation.computeIfAbsent(q, x -> new AtomicInteger()).getAndIncrement(),
              current.size());
      for (int i = 0; i < current.size(); i++) {
        out.add(current.get((start + i) % current.size()));
      }
      for (Draining d : l.draining()) {
        out.addAll(names(q, d.shards()));
      }
    }
    return out;
  }

  /** Every physical queue of {@code queue}: current and draining. */
  List<String> all(String queue) {
    Layout l = layout(queue);
    List<String> out = new ArrayList<>(names(queue, l.shards()));
    for (Draining d : l.draining()) {
      out.addAll(names(queue, d.shards()));
    }
    return out;
  }

  /** The logical queue of a physical one. */
  static String logical(String physical) {
    int space = physical.indexOf(' ');
    return space < 0 ? physical : physical.substring(0, space);
  }

  /** The shard part of a physical queue ({@code n/i/k}), or "" for an unsharded one. */
  static String shardOf(String physical) {
    int space = physical.indexOf(' ');
    return space < 0 ? "" : physical.substring(space + 1);
  }

  /** The receipt prefix a claim on {@code physical} gives its deliveries. */
  static String receiptPrefix(String base, String physical) {
    String shard = shardOf(physical);
    return shard.isEmpty() ? base : base + "~" + shard;
  }

  /** The physical queue of a delivery: its queue, with the shard its receipt names. */
  static String physical(Delivery d) {
    return physical(d.queue(), d.receipt());
  }

  static String physical(String queue, String receipt) {
    int tilde = receipt.indexOf('~');
    if (tilde < 0) {
      return queue;
    }
    int dot = receipt.lastIndexOf('.');
    return queue + " " + receipt.substring(tilde + 1, dot < tilde ? receipt.length() : dot);
  }
}
