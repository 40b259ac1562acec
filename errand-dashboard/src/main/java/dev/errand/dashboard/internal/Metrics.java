package dev.errand.dashboard.internal;

import dev.errand.Event;
import dev.errand.metrics.BackendMetrics;
import dev.errand.metrics.TaskMeters;
import dev.errand.spi.Backend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The dashboard's Prometheus metrics: the backend's gauges ({@link BackendMetrics}, read in the
 * background, so a scrape answers at once even when the backend does not), and task outcomes,
 * runtimes and retries ({@link TaskMeters}) counted from the event log since the dashboard started,
 * so one dashboard reports the whole fleet.
 */
final class Metrics {

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final BackendMetrics gauges;
  private final TaskMeters tasks = new TaskMeters(registry);

  Metrics(Backend backend) {
    this.gauges = new BackendMetrics(backend);
    gauges.bindTo(registry);
  }

  /** The metrics in Prometheus text format, as of the gauges' last read of the backend. */
  String scrape() {
    return registry.scrape();
  }

  /** Stops reading the backend. */
  void close() {
    gauges.close();
  }

  /** Counts a task outcome from the event log. */
  void record(Event e) {
    tasks.record(e);
  }
}
