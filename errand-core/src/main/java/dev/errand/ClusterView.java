package dev.errand;

import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What an operator sees of a backend at one moment: every queue with its depth, dead letters and
 * consumers, the live workers, and totals. The dashboard, the metrics and {@code errand inspect}
 * all show this one view, so they never disagree about which queues exist or what they hold.
 *
 * <p>The queues are the union of the queues the broker knows, the queues live workers consume
 * (shown while empty) and the queues that hold dead letters (shown after their messages and workers
 * are gone), sorted naturally ({@code q2} before {@code q10}). {@link #read} reads each backend
 * collection once: the broker's queue list, the live workers, the dead-letter counts per queue, and
 * each queue's stats and shard count. Immutable and thread-safe.
 */
public final class ClusterView {

  /**
   * One queue.
   *
   * @param name the queue name
   * @param ready messages ready to be delivered now
   * @param readyByPriority ready messages per priority, only priorities with messages, 9 first
   * @param leased messages leased to workers
   * @param delayed messages waiting for their eta (including retries)
   * @param oldestReadyAt when the oldest ready message became ready, null if none is ready
   * @param lag how long the oldest ready message has waited, zero if none is ready
   * @param dead dead letters of this queue
   * @param consumers live workers that consume this queue and report they are consuming
   * @param paused whether the queue is paused: workers claim nothing from it until it is resumed
   * @param limited messages held back by their rate or concurrency limit
   * @param shards how many shards the queue is spread over ({@link dev.errand.spi.Broker#shards}):
   *     1 unless it was sharded, on Redis
   */
  public record Queue(
      String name,
      long ready,
      Map<Integer, Long> readyByPriority,
      long leased,
      long delayed,
      Instant oldestReadyAt,
      Duration lag,
      long dead,
      int consumers,
      boolean paused,
      long limited,
      int shards) {

    public Queue {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(lag, "lag");
      TreeMap<Integer, Long> sorted = new TreeMap<>(Comparator.reverseOrder());
      sorted.putAll(readyByPriority);
      readyByPriority = Collections.unmodifiableMap(sorted);
    }

    /**
     * Whether messages are ready but no live worker consumes the queue: nothing will run them. A
     * paused queue is not counted: it waits on purpose.
     */
    public boolean unconsumed() {
      return ready > 0 && consumers == 0 && !paused;
    }
  }

  /**
   * Sums over the whole view.
   *
   * @param ready ready messages in all queues
   * @param leased leased messages in all queues
   * @param delayed delayed messages in all queues
   * @param dead dead letters in all queues
   * @param workers live workers
   * @param workersNotConsuming live workers that report they are not consuming
   * @param running tasks running on live workers
   * @param unconsumedQueues queues with ready messages and no consuming worker
   */
  public record Totals(
      long ready,
      long leased,
      long delayed,
      long dead,
      int workers,
      int workersNotConsuming,
      int running,
      int unconsumedQueues) {}

  private final Instant readAt;
  private final List<Queue> queues;
  private final List<WorkerInfo> workers;
  private final Totals totals;

  private ClusterView(Instant readAt, List<Queue> queues, List<WorkerInfo> workers) {
    this.readAt = readAt;
    this.queues = List.copyOf(queues);
    this.workers = List.copyOf(workers);
    long ready = 0;
    long leased = 0;
    long delayed = 0;
    long dead = 0;
    int unconsumed = 0;
    for (Queue q : queues) {
      ready += q.ready();
      leased += q.leased();
      delayed += q.delayed();
      dead += q.dead();
      unconsumed += q.unconsumed() ? 1 : 0;
    }
    int notConsuming = 0;
    int running = 0;
    for (WorkerInfo w : workers) {
      notConsuming += w.consuming() ? 0 : 1;
      running += w.running().size();
    }
    this.totals =
        new Totals(ready, leased, delayed, dead, workers.size(), notConsuming, running, unconsumed);
  }

  /**
   * Reads the view from {@code backend}; lags are measured to {@code clock}'s now.
   *
   * @throws BackendException (or another runtime exception of the backend) if a read fails
   */
  public static ClusterView read(Backend backend, Clock clock) {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(clock, "clock");
    List<WorkerInfo> live = new ArrayList<>(backend.workers().live());
    Map<String, Long> dead = backend.deadLetters().countByQueue();
    TreeSet<String> names = new TreeSet<>(NATURAL_ORDER);
    names.addAll(backend.broker().queues());
    names.addAll(dead.keySet());
    Map<String, Integer> consumers = consumers(live);
    for (WorkerInfo w : live) {
      names.addAll(w.queues());
    }
    Map<String, QueueStats> stats = new HashMap<>();
    for (String q : names) {
      stats.put(q, backend.broker().stats(q));
    }
    Instant now = clock.instant();
    List<Queue> queues = new ArrayList<>(names.size());
    for (String q : names) {
      QueueStats s = stats.get(q);
      Duration lag =
          s.oldestReadyAt() == null || s.oldestReadyAt().isAfter(now)
              ? Duration.ZERO
              : Duration.between(s.oldestReadyAt(), now);
      queues.add(
          new Queue(
              q,
              s.ready(),
              s.readyByPriority(),
              s.leased(),
              s.delayed(),
              s.oldestReadyAt(),
              lag,
              dead.getOrDefault(q, 0L),
              consumers.getOrDefault(q, 0),
              s.paused(),
              s.limited(),
              backend.broker().shards(q)));
    }
    live.sort(Comparator.comparing(WorkerInfo::name, NATURAL_ORDER));
    return new ClusterView(now, queues, live);
  }

  /**
   * How many of {@code live} workers consume each queue: those that list it and report they are
   * consuming ({@link WorkerInfo#consuming()}); a worker listing a queue twice counts once. The
   * rule behind {@link Queue#consumers()}, for callers that need only this (a timed-out wait for a
   * result asks it of the task's queue). Queues nobody consumes are absent.
   */
  public static Map<String, Integer> consumers(Collection<WorkerInfo> live) {
    Map<String, Integer> consumers = new HashMap<>();
    for (WorkerInfo w : live) {
      if (w.consuming()) {
        new TreeSet<>(w.queues()).forEach(q -> consumers.merge(q, 1, Integer::sum));
      }
    }
    return consumers;
  }

  /** When the view was read (by the clock given to {@link #read}). */
  public Instant readAt() {
    return readAt;
  }

  /** Every queue, sorted naturally by name. */
  public List<Queue> queues() {
    return queues;
  }

  /** The queue named {@code name}, if the view has it. */
  public Optional<Queue> queue(String name) {
    return queues.stream().filter(q -> q.name().equals(name)).findFirst();
  }

  /** The live workers, sorted naturally by name. */
  public List<WorkerInfo> workers() {
    return workers;
  }

  /** Sums over all queues and workers. */
  public Totals totals() {
    return totals;
  }

  /**
   * Names in natural order: runs of digits compare as numbers ({@code q2} before {@code q10}),
   * everything else as text; names that compare equal so (e.g. {@code q01} and {@code q1}) fall
   * back to plain text order, so the order is total.
   */
  public static final Comparator<String> NATURAL_ORDER = ClusterView::compareNatural;

  private static int compareNatural(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char x = a.charAt(i);
      char y = b.charAt(j);
      if (isDigit(x) && isDigit(y)) {
        int ei = digitsEnd(a, i);
        int ej = digitsEnd(b, j);
        int si = skipZeros(a, i, ei);
        int sj = skipZeros(b, j, ej);
        int byLength = Integer.compare(ei - si, ej - sj);
        if (byLength != 0) {
          return byLength;
        }
        int byDigits = a.substring(si, ei).compareTo(b.substring(sj, ej));
        if (byDigits != 0) {
          return byDigits;
        }
        i = ei;
        j = ej;
      } else {
        if (x != y) {
          return Character.compare(x, y);
        }
        i++;
        j++;
      }
    }
    int byRest = Integer.compare(a.length() - i, b.length() - j);
    return byRest != 0 ? byRest : a.compareTo(b);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int digitsEnd(String s, int from) {
    int k = from;
    while (k < s.length() && isDigit(s.charAt(k))) {
      k++;
    }
    return k;
  }

  private static int skipZeros(String s, int from, int end) {
    int k = from;
    while (k < end - 1 && s.charAt(k) == '0') {
      k++;
    }
    return k;
  }
}
