package dev.errand.spring.actuate;

import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import dev.errand.spring.autoconfigure.ErrandWorkerLifecycle;
import dev.errand.worker.Worker;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the health and info contributors report, read from the backend and the worker, independent
 * of the Spring Boot version's actuator API. Thread-safe.
 */
public final class ErrandStatus {

  /** Queues listed at most, so a backend with thousands of queues keeps the report small. */
  static final int MAX_QUEUES = 50;

  private final Backend backend;
  private final ErrandWorkerLifecycle worker;

  /**
   * Reads {@code backend} and, if not null, the worker of {@code worker}.
   *
   * @param backend the application's backend
   * @param worker the worker's lifecycle bean, or null when this application runs no worker
   */
  public ErrandStatus(Backend backend, ErrandWorkerLifecycle worker) {
    this.backend = backend;
    this.worker = worker;
  }

  /** A health verdict: up or not, with details. */
  public record Verdict(boolean up, Map<String, Object> details) {}

  /**
   * Up when the backend answers and, if this application runs a worker, the worker is consuming.
   * Details: the backend, the worker's state, and each queue's ready, leased, delayed and oldest
   * waiting age.
   */
  public Verdict health() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("backend", backend.describe());
    boolean up = true;
    try {
      Map<String, Object> queues = new LinkedHashMap<>();
      List<String> names = backend.broker().queues();
      Instant now = backend.clock().instant();
      for (String q : names.subList(0, Math.min(names.size(), MAX_QUEUES))) {
        QueueStats s = backend.broker().stats(q);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ready", s.ready());
        m.put("leased", s.leased());
        m.put("delayed", s.delayed());
        if (s.oldestReadyAt() != null) {
          m.put("oldestReadyAge", Duration.between(s.oldestReadyAt(), now).toString());
        }
        if (s.paused()) {
          m.put("paused", true);
        }
        queues.put(q, m);
      }
      d.put("queues", queues);
      if (names.size() > MAX_QUEUES) {
        d.put("queuesNotShown", names.size() - MAX_QUEUES);
      }
    } catch (RuntimeException e) {
      up = false;
      d.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    if (worker != null) {
      Worker w = worker.worker();
      if (w == null) {
        d.put("worker", "stopped");
        up = false;
      } else {
        d.put("worker", w.name());
        d.put("consuming", w.isConsuming());
        if (!w.isConsuming()) {
          up = false;
        }
        if (w.stuckThreads() > 0) {
          d.put("stuckThreads", w.stuckThreads());
        }
      }
    }
    return new Verdict(up, d);
  }

  /** For {@code /actuator/info}: the backend and, if any, the worker's name, queues and tasks. */
  public Map<String, Object> info() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("backend", backend.describe());
    if (worker != null && worker.worker() != null) {
      Worker w = worker.worker();
      d.put("worker", w.name());
      d.put("queues", w.options().queues());
      d.put("concurrency", w.options().concurrency());
    }
    return d;
  }
}
