package dev.errand.dashboard.internal;

import dev.errand.Event;
import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prometheus metrics: queue depth and lag, dead letters and workers read from the backend at each
 * scrape; tasks by name and outcome, runtimes and retries counted from the event log since start.
 */
final class Metrics {

  private final Backend backend;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();

  Metrics(Backend backend) {
    this.backend = backend;
  }

  /** The metrics in Prometheus text format, with the backend's gauges read now. */
  synchronized String scrape() {
    Instant now = Instant.now();
    for (String q : backend.broker().queues()) {
      QueueStats s = backend.broker().stats(q);
      gauge("errand_queue_ready", "queue", q, "messages ready now").set(s.ready());
      gauge("errand_queue_leased", "queue", q, "messages leased to workers").set(s.leased());
      gauge("errand_queue_delayed", "queue", q, "messages waiting for their time").set(s.delayed());
      gauge("errand_queue_lag_seconds", "queue", q, "age of the oldest ready message")
          .set(
              s.oldestReadyAt() == null
                  ? 0
                  : Math.max(0, Duration.between(s.oldestReadyAt(), now).toSeconds()));
      gauge("errand_dead_letters", "queue", q, "dead letters").set(backend.deadLetters().count(q));
    }
    gauge("errand_workers", null, null, "live workers").set(backend.workers().live().size());
    return registry.scrape();
  }

  /** Counts a task outcome from the event log. */
  void record(Event e) {
    String name = e.taskName() == null ? "unknown" : e.taskName();
    switch (e.type()) {
      case TASK_SUCCEEDED, TASK_FAILED, TASK_REVOKED -> {
        String outcome = e.type().wireName().substring("task-".length());
        Counter.builder("errand_tasks")
            .description("tasks by name and outcome")
            .tag("name", name)
            .tag("outcome", outcome)
            .register(registry)
            .increment();
        if (e.data() != null && e.data().has("runtimeMs")) {
          Timer.builder("errand_task_runtime")
              .description("task runtime")
              .tag("name", name)
              .publishPercentileHistogram()
              .register(registry)
              .record(Duration.ofMillis(e.data().get("runtimeMs").asLong()));
        }
      }
      case TASK_RETRIED ->
          Counter.builder("errand_task_retries")
              .description("retries by task name")
              .tag("name", name)
              .register(registry)
              .increment();
      default -> {}
    }
  }

  private AtomicLong gauge(String metric, String tag, String value, String help) {
    String key = metric + "|" + value;
    return gauges.computeIfAbsent(
        key,
        k -> {
          AtomicLong v = new AtomicLong();
          Gauge.Builder<AtomicLong> g = Gauge.builder(metric, v, AtomicLong::get).description(help);
          if (tag != null) {
            g.tag(tag, value);
          }
          g.register(registry);
          return v;
        });
  }
}
