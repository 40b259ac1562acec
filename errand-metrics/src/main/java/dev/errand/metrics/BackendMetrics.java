package dev.errand.metrics;

import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges read from the backend, so they are the same whichever process reports them: per queue
 * (every queue holding messages or consumed by a live worker) {@code errand.queue.ready}, {@code
 * errand.queue.leased}, {@code errand.queue.delayed}, {@code errand.queue.lag} (seconds since the
 * oldest ready message became ready) and {@code errand.dead.letters}; {@code errand.workers} (live
 * workers) and {@code errand.backend.up} (1 when the last read worked, 0 when it failed).
 *
 * <p>The backend is read at most once per {@code maxAge} (default 1 s) however many gauges a scrape
 * reads; {@link #refresh()} reads it now (a Prometheus endpoint calls it before each scrape). A
 * queue seen for the first time gets its gauges on that read. When the backend cannot be read the
 * gauges keep their last values and {@code errand.backend.up} drops to 0. Thread-safe.
 */
public final class BackendMetrics implements MeterBinder {

  private static final Logger log = LoggerFactory.getLogger(BackendMetrics.class);

  /** The default bound on how stale a gauge may be: {@code 1 s}. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofSeconds(1);

  private record Snapshot(
      Instant readAt, Map<String, QueueStats> queues, Map<String, Long> dead, int workers) {}

  private final Backend backend;
  private final Duration maxAge;
  private final Clock clock;
  private final List<MeterRegistry> registries = new ArrayList<>();
  private final Set<String> boundQueues = ConcurrentHashMap.newKeySet();
  private volatile Snapshot snapshot = new Snapshot(Instant.EPOCH, Map.of(), Map.of(), 0);
  private volatile boolean up = true;
  private volatile boolean loggedDown;

  /** Gauges of {@code backend}, read at most once a second. */
  public BackendMetrics(Backend backend) {
    this(backend, DEFAULT_MAX_AGE, Clock.systemUTC());
  }

  /** Gauges of {@code backend}, read at most once per {@code maxAge}; {@code clock} for lag. */
  public BackendMetrics(Backend backend, Duration maxAge, Clock clock) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    registries.add(registry);
    Gauge.builder("errand.workers", this, m -> m.current().workers())
        .description("live workers (with a recent heartbeat)")
        .register(registry);
    Gauge.builder("errand.backend.up", this, m -> m.up ? 1 : 0)
        .description("1 if the backend could be read at the last scrape, else 0")
        .register(registry);
    for (String q : boundQueues) {
      bindQueue(registry, q);
    }
  }

  /** Reads the backend now (and binds gauges for queues not seen before). */
  public synchronized void refresh() {
    Instant now = clock.instant();
    try {
      Map<String, QueueStats> queues = new HashMap<>();
      Map<String, Long> dead = new HashMap<>();
      List<WorkerInfo> workers = backend.workers().live();
      // Queues holding messages, and those a live worker consumes even while they are empty.
      Set<String> names = new TreeSet<>(backend.broker().queues());
      workers.forEach(w -> names.addAll(w.queues()));
      for (String q : names) {
        queues.put(q, backend.broker().stats(q));
        dead.put(q, backend.deadLetters().count(q));
      }
      snapshot = new Snapshot(now, queues, dead, workers.size());
      if (!up) {
        log.info("the backend can be read again");
      }
      up = true;
      loggedDown = false;
      for (String q : queues.keySet()) {
        if (boundQueues.add(q)) {
          registries.forEach(r -> bindQueue(r, q));
        }
      }
    } catch (RuntimeException e) {
      up = false;
      // Keep the last snapshot but stamp it, so a dead backend is not read on every gauge.
      snapshot = new Snapshot(now, snapshot.queues(), snapshot.dead(), snapshot.workers());
      if (!loggedDown) {
        loggedDown = true;
        log.warn(
            "metrics could not read the backend; gauges keep their last values: {}", e.toString());
      }
    }
  }

  private Snapshot current() {
    Snapshot s = snapshot;
    if (Duration.between(s.readAt(), clock.instant()).compareTo(maxAge) >= 0) {
      refresh();
      s = snapshot;
    }
    return s;
  }

  private void bindQueue(MeterRegistry registry, String queue) {
    queueGauge(
        registry, "errand.queue.ready", queue, "messages ready to deliver", QueueStats::ready);
    queueGauge(
        registry, "errand.queue.leased", queue, "messages leased to workers", QueueStats::leased);
    queueGauge(
        registry,
        "errand.queue.delayed",
        queue,
        "messages waiting for their time",
        QueueStats::delayed);
    TimeGauge.builder("errand.queue.lag", this, TimeUnit.SECONDS, m -> m.lagSeconds(queue))
        .description("age of the oldest ready message (0 when none is ready)")
        .tag("queue", queue)
        .register(registry);
    Gauge.builder("errand.dead.letters", this, m -> m.current().dead().getOrDefault(queue, 0L))
        .description("messages in the dead letters")
        .tag("queue", queue)
        .register(registry);
  }

  private void queueGauge(
      MeterRegistry registry,
      String name,
      String queue,
      String help,
      ToDoubleFunction<QueueStats> value) {
    Gauge.builder(
            name,
            this,
            m -> {
              QueueStats s = m.current().queues().get(queue);
              return s == null ? 0 : value.applyAsDouble(s);
            })
        .description(help)
        .tag("queue", queue)
        .register(registry);
  }

  private double lagSeconds(String queue) {
    Snapshot s = current();
    QueueStats q = s.queues().get(queue);
    if (q == null || q.oldestReadyAt() == null) {
      return 0;
    }
    return Math.max(0, Duration.between(q.oldestReadyAt(), s.readAt()).toMillis() / 1000.0);
  }
}
