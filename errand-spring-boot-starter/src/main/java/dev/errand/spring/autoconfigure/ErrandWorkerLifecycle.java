package dev.errand.spring.autoconfigure;

import dev.errand.Client;
import dev.errand.spi.Backend;
import dev.errand.worker.TaskInterceptor;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerListener;
import dev.errand.worker.WorkerOptions;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.SmartLifecycle;

/**
 * The application's worker, as a {@link SmartLifecycle}: built and started once every bean exists
 * (so every {@link dev.errand.spring.ErrandTask} is registered), in the last phase, after the web
 * server; stopped first on shutdown, before the web server's graceful shutdown, the way {@code
 * errand worker} stops on SIGTERM: it claims nothing more, hands prefetched tasks back at once, and
 * gives running tasks {@code errand.worker.shutdown-timeout} to finish before handing them back
 * too. Thread-safe.
 */
public final class ErrandWorkerLifecycle implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ErrandWorkerLifecycle.class);

  /** Started last, stopped first. */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE;

  private final Backend backend;
  private final Client client;
  private final ErrandProperties properties;
  private final ErrandTaskRegistrar registrar;
  private final ObjectProvider<WorkerListener> listeners;
  private final ObjectProvider<TaskInterceptor> interceptors;
  private final String phaseTimeout;
  private volatile Worker worker;

  ErrandWorkerLifecycle(
      Backend backend,
      Client client,
      ErrandProperties properties,
      ErrandTaskRegistrar registrar,
      ObjectProvider<WorkerListener> listeners,
      ObjectProvider<TaskInterceptor> interceptors,
      String phaseTimeout) {
    this.backend = backend;
    this.client = client;
    this.properties = properties;
    this.registrar = registrar;
    this.listeners = listeners;
    this.interceptors = interceptors;
    this.phaseTimeout = phaseTimeout;
  }

  /** The running worker, or null before start and after stop. */
  public Worker worker() {
    return worker;
  }

  /** The options the worker runs with, from {@code errand.worker.*}. */
  WorkerOptions options() {
    ErrandProperties.Worker p = properties.getWorker();
    WorkerOptions.Builder b =
        WorkerOptions.builder()
            .queues(p.getQueues())
            .queueOrder(p.getQueueOrder())
            .pool(p.getPool())
            .leaseDuration(p.getLeaseDuration())
            .shutdownTimeout(p.getShutdownTimeout())
            .maxDeliveries(p.getMaxDeliveries())
            .resultExpires(p.getResultExpires())
            .heartbeatInterval(p.getHeartbeatInterval())
            .pollInterval(p.getPollInterval())
            .stallTimeout(p.getStallTimeout());
    p.getQueueWeights().forEach(b::queueWeight);
    if (p.getMaxTasks() > 0) {
      b.maxTasks(p.getMaxTasks());
    }
    if (p.getMinConcurrency() > 0) {
      b.autoscale(p.getMinConcurrency(), p.getConcurrency());
    } else {
      b.concurrency(p.getConcurrency());
    }
    if (p.getPrefetch() > 0) {
      b.prefetch(p.getPrefetch());
    }
    if (p.getName() != null && !p.getName().isBlank()) {
      b.name(p.getName());
    }
    return b.build();
  }

  @Override
  public synchronized void start() {
    if (worker != null) {
      return;
    }
    WorkerOptions options = options();
    warnIfShutdownOutlastsPhase(options.shutdownTimeout());
    Worker.Builder b =
        Worker.builder(backend).tasks(registrar.registry()).options(options).client(client);
    List<WorkerListener> ls = listeners.orderedStream().toList();
    if (!ls.isEmpty()) {
      b.listener(WorkerListener.all(ls));
    }
    interceptors.orderedStream().forEach(b::interceptor);
    Worker w = b.build();
    w.start();
    worker = w;
    log.info(
        "Errand worker {} consuming {} with {} task(s): {}",
        w.name(),
        options.queues(),
        registrar.registry().names().size(),
        registrar.registry().names());
  }

  private void warnIfShutdownOutlastsPhase(Duration shutdown) {
    Duration phase = Duration.ofSeconds(30); // Spring's default
    if (phaseTimeout != null && !phaseTimeout.isBlank()) {
      try {
        phase = DurationStyle.detectAndParse(phaseTimeout);
      } catch (IllegalArgumentException e) {
        return; // Spring itself reports it
      }
    }
    if (shutdown.compareTo(phase) > 0) {
      log.warn(
          "errand.worker.shutdown-timeout ({}) is longer than"
              + " spring.lifecycle.timeout-per-shutdown-phase ({}): Spring will stop waiting for"
              + " running tasks first; a task still running when the JVM exits runs again elsewhere once"
              + " its lease runs out",
          shutdown,
          phase);
    }
  }

  @Override
  public void stop() {
    Worker w;
    synchronized (this) {
      w = worker;
      worker = null;
    }
    if (w != null) {
      boolean clean = w.shutdown(w.options().shutdownTimeout());
      log.info(
          "Errand worker {} stopped{}",
          w.name(),
          clean ? "" : " (running tasks were handed back after the shutdown timeout)");
    }
  }

  @Override
  public void stop(Runnable callback) {
    // Off the caller's thread, so Spring stops other lifecycles of this phase meanwhile and bounds
    // the wait by its phase timeout.
    Thread t =
        new Thread(
            () -> {
              try {
                stop();
              } finally {
                callback.run();
              }
            },
            "errand-worker-shutdown");
    t.start();
  }

  @Override
  public boolean isRunning() {
    return worker != null;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
