package dev.errand.metrics;

import dev.errand.ClusterView;
import dev.errand.spi.Backend;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges of the operator's view of the backend ({@link ClusterView}), so they are the same
 * whichever process reports them, and the same as the dashboard and {@code errand inspect} show:
 * per queue (every queue the broker knows, a live worker consumes, or that holds dead letters)
 * {@code errand.queue.ready}, {@code errand.queue.leased}, {@code errand.queue.delayed}, {@code
 * errand.queue.lag} (seconds the oldest ready message has waited), {@code errand.queue.consumers}
 * (live workers consuming it) and {@code errand.dead.letters}; {@code errand.workers} (live
 * workers), {@code errand.workers.not.consuming} and {@code errand.backend.up}.
 *
 * <p>The view is read on a background thread every {@code interval} (default 5 s), started by the
 * first {@link #bindTo}, never by a scrape: a scrape answers at once with the values of the last
 * read, however slow or dead the backend is. {@code errand.backend.up} is 1 when the last read
 * worked and is recent, and 0 when it failed, when a read has been running longer than {@code
 * timeout} (default 2 s), or when no read finished for {@code interval + timeout}; the other gauges
 * then keep their last values. The gauges of a queue that left the view (its messages, workers and
 * dead letters gone) are removed from the registries, so old queues leave no series behind.
 * Thread-safe; {@link #close()} stops the thread.
 */
public final class BackendMetrics implements MeterBinder, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BackendMetrics.class);

  /** How often the backend is read unless told otherwise: 5 s. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  /**
   * How long a read may run before the backend counts as down unless told otherwise: 2 s, far above
   * a healthy read (milliseconds) and far below Prometheus's 10 s scrape timeout.
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

  /** The last view read, with its queues by name for the gauges. */
  private record Snapshot(ClusterView view, Map<String, ClusterView.Queue> queues) {}

  private final Backend backend;
  private final Duration interval;
  private final Duration timeout;
  private final Clock clock;
  private final Object readLock = new Object();

  // Guarded by this: the meters of each queue in each registry bound.
  private final Map<MeterRegistry, Map<String, List<Meter>>> bound = new LinkedHashMap<>();
  private ScheduledExecutorService refresher;
  private boolean closed;

  private volatile Snapshot snapshot;
  private volatile Instant lastSuccessAt; // when the last read that worked started
  private volatile boolean lastFailed;
  private volatile Instant readingSince; // when the read in progress started, null if none
  private volatile boolean loggedDown;

  /** Gauges of {@code backend}, read every 5 s, down after a read of 2 s. */
  public BackendMetrics(Backend backend) {
    this(builder(backend));
  }

  private BackendMetrics(Builder b) {
    this.backend = b.backend;
    this.interval = b.interval;
    this.timeout = b.timeout;
    this.clock = b.clock;
  }

  /** A builder for gauges of {@code backend}. */
  public static Builder builder(Backend backend) {
    return new Builder(backend);
  }

  /**
   * Registers the gauges in {@code registry} (also those of every queue seen so far) and starts the
   * background reads if they are not running yet.
   */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    if (bound.containsKey(registry)) {
      return;
    }
    Gauge.builder("errand.workers", this, m -> m.totals(ClusterView.Totals::workers))
        .description("live workers (with a recent heartbeat)")
        .register(registry);
    Gauge.builder(
            "errand.workers.not.consuming",
            this,
            m -> m.totals(ClusterView.Totals::workersNotConsuming))
        .description("live workers that report they are not consuming")
        .register(registry);
    Gauge.builder("errand.backend.up", this, m -> m.up() ? 1 : 0)
        .description(
            "1 if the last read of the backend worked and is recent, 0 if it failed or is overdue")
        .register(registry);
    Map<String, List<Meter>> queues = new HashMap<>();
    bound.put(registry, queues);
    Snapshot s = snapshot;
    if (s != null) {
      for (String q : s.queues().keySet()) {
        queues.put(q, bindQueue(registry, q));
      }
    }
    if (refresher == null && !closed) {
      refresher =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "errand-metrics-refresh");
                t.setDaemon(true);
                return t;
              });
      refresher.scheduleWithFixedDelay(
          this::refreshQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Reads the backend now, on the calling thread (the background reads do this every {@code
   * interval}); binds gauges for queues new to the view and removes those of queues that left it. A
   * failure is logged once (until a read works again) and reported by {@code errand.backend.up},
   * not thrown.
   */
  public void refresh() {
    synchronized (readLock) {
      Instant started = clock.instant();
      readingSince = started;
      try {
        ClusterView view = ClusterView.read(backend, clock);
        boolean wasDown = lastFailed;
        publish(view, started);
        if (wasDown) {
          log.info("metrics can read the backend again");
        }
        loggedDown = false;
      } catch (RuntimeException e) {
        lastFailed = true;
        if (!loggedDown) {
          loggedDown = true;
          log.warn(
              "metrics could not read the backend; gauges keep their last values: {}",
              e.toString());
        }
      } finally {
        readingSince = null;
      }
    }
  }

  /** Stops the background reads; the gauges keep their last values. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    if (refresher != null) {
      refresher.shutdownNow();
    }
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (Throwable t) { // an Error too: the schedule must not die with this run
      log.warn("metrics refresh failed", t);
    }
  }

  private synchronized void publish(ClusterView view, Instant started) {
    Map<String, ClusterView.Queue> byName = new LinkedHashMap<>();
    for (ClusterView.Queue q : view.queues()) {
      byName.put(q.name(), q);
    }
    snapshot = new Snapshot(view, byName);
    lastFailed = false;
    lastSuccessAt = started;
    for (Map.Entry<MeterRegistry, Map<String, List<Meter>>> e : bound.entrySet()) {
      MeterRegistry registry = e.getKey();
      Map<String, List<Meter>> queues = e.getValue();
      queues
          .entrySet()
          .removeIf(
              q -> {
                if (byName.containsKey(q.getKey())) {
                  return false;
                }
                q.getValue().forEach(registry::remove);
                return true;
              });
      for (String q : byName.keySet()) {
        queues.computeIfAbsent(q, name -> bindQueue(registry, name));
      }
    }
  }

  /** Whether the last read worked and is recent, and no read has been running too long. */
  private boolean up() {
    Instant now = clock.instant();
    Instant since = readingSince;
    if (since != null && Duration.between(since, now).compareTo(timeout) > 0) {
      return false;
    }
    Instant ok = lastSuccessAt;
    return ok != null
        && !lastFailed
        && Duration.between(ok, now).compareTo(interval.plus(timeout)) <= 0;
  }

  private double totals(ToDoubleFunction<ClusterView.Totals> value) {
    Snapshot s = snapshot;
    return s == null ? 0 : value.applyAsDouble(s.view().totals());
  }

  private double queue(String queue, ToDoubleFunction<ClusterView.Queue> value) {
    Snapshot s = snapshot;
    ClusterView.Queue q = s == null ? null : s.queues().get(queue);
    return q == null ? 0 : value.applyAsDouble(q);
  }

  private List<Meter> bindQueue(MeterRegistry registry, String queue) {
    List<Meter> meters = new ArrayList<>(6);
    meters.add(
        queueGauge(
            registry,
            "errand.queue.ready",
            queue,
            "messages ready to deliver",
            ClusterView.Queue::ready));
    meters.add(
        queueGauge(
            registry,
            "errand.queue.leased",
            queue,
            "messages leased to workers",
            ClusterView.Queue::leased));
    meters.add(
        queueGauge(
            registry,
            "errand.queue.delayed",
            queue,
            "messages waiting for their time",
            ClusterView.Queue::delayed));
    meters.add(
        queueGauge(
            registry,
            "errand.queue.consumers",
            queue,
            "live workers consuming the queue",
            ClusterView.Queue::consumers));
    meters.add(
        queueGauge(
            registry,
            "errand.dead.letters",
            queue,
            "messages in the dead letters",
            ClusterView.Queue::dead));
    meters.add(
        TimeGauge.builder(
                "errand.queue.lag",
                this,
                TimeUnit.MILLISECONDS,
                m -> m.queue(queue, q -> q.lag().toMillis()))
            .description("how long the oldest ready message has waited (0 when none is ready)")
            .tag("queue", queue)
            .register(registry));
    return meters;
  }

  private Meter queueGauge(
      MeterRegistry registry,
      String name,
      String queue,
      String help,
      ToDoubleFunction<ClusterView.Queue> value) {
    return Gauge.builder(name, this, m -> m.queue(queue, value))
        .description(help)
        .tag("queue", queue)
        .register(registry);
  }

  /** Builds {@link BackendMetrics}. Not thread-safe. */
  public static final class Builder {
    private final Backend backend;
    private Duration interval = DEFAULT_INTERVAL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Clock clock = Clock.systemUTC();

    private Builder(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
    }

    /**
     * How often the backend is read, {@code > 0}; default {@link #DEFAULT_INTERVAL} (5 s).
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder interval(Duration interval) {
      this.interval = positive(interval, "interval");
      return this;
    }

    /**
     * How long a read may run before the backend counts as down, {@code > 0}; default {@link
     * #DEFAULT_TIMEOUT} (2 s).
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder timeout(Duration timeout) {
      this.timeout = positive(timeout, "timeout");
      return this;
    }

    /** The clock for lags and for what counts as overdue; default the system clock (UTC). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The gauges; nothing runs until the first {@link BackendMetrics#bindTo}. */
    public BackendMetrics build() {
      return new BackendMetrics(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(name + " must be > 0 but was " + d);
      }
      return d;
    }
  }
}
