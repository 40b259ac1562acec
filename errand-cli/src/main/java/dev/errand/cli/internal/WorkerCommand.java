package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.dashboard.Dashboard;
import dev.errand.metrics.BackendMetrics;
import dev.errand.metrics.PrometheusEndpoint;
import dev.errand.metrics.WorkerMetrics;
import dev.errand.scheduler.Beat;
import dev.errand.scheduler.ScheduleSource;
import dev.errand.spi.Backend;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.Pool;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand worker}: consumes queues until SIGTERM or SIGINT, then shuts down gracefully. */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Run a worker: consume the queues, run the app's tasks, until SIGTERM or Ctrl-C.",
      "On SIGTERM it stops fetching, hands back prefetched tasks at once and lets running",
      "tasks finish within --shutdown-timeout."
    })
final class WorkerCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;

  @Option(
      names = {"-A", "--app"},
      required = true,
      paramLabel = "CLASS",
      description = "Class implementing dev.errand.worker.ErrandApp that registers the tasks.")
  String app;

  @Option(
      names = "--classpath",
      paramLabel = "PATHS",
      description = "Jars or directories to load --app from, separated by '${sys:path.separator}'.")
  String classpath;

  @Option(
      names = {"-Q", "--queues"},
      split = ",",
      paramLabel = "QUEUE",
      description = "Queues to consume, in priority order (default: default).")
  List<String> queues = List.of("default");

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N",
      description = "Tasks run at once (default: number of CPUs).")
  Integer concurrency;

  @Option(
      names = "--pool",
      paramLabel = "POOL",
      description = "threads or virtual (virtual needs Java 21+; default: threads).")
  String pool = "threads";

  @Option(
      names = "--prefetch",
      paramLabel = "N",
      description = "Messages held beyond the running ones (default: the concurrency).")
  Integer prefetch;

  @Option(
      names = {"-n", "--name"},
      paramLabel = "NAME",
      description = "Worker name (default: errand@host:pid).")
  String name;

  @Option(
      names = "--lease",
      paramLabel = "DURATION",
      description = "Lease duration (default: 30s).")
  Duration lease;

  @Option(
      names = "--shutdown-timeout",
      paramLabel = "DURATION",
      description = "How long shutdown waits for running tasks (default: 30s).")
  Duration shutdownTimeout;

  @Option(
      names = "--max-deliveries",
      paramLabel = "N",
      description = "Deliveries without outcome before dead-lettering (default: 5).")
  Integer maxDeliveries;

  @Option(
      names = "--beat",
      description =
          "Also run the scheduler (as errand beat does), with the schedules of --app if it"
              + " implements ScheduleSource.")
  boolean beat;

  @Option(
      names = "--dashboard",
      paramLabel = "[HOST:]PORT",
      converter = HostPort.Converter.class,
      description =
          "Also serve the dashboard, e.g. :5555 (this machine only unless a host is given;"
              + " beyond it, set ERRAND_DASHBOARD_TOKEN).")
  HostPort dashboardAt;

  @Option(
      names = "--read-only",
      description = "With --dashboard: hide and refuse every action of the dashboard.")
  boolean dashboardReadOnly;

  @Option(
      names = "--mask",
      paramLabel = "NAMES",
      split = ",",
      description =
          "With --dashboard: more names whose values show as ****, besides the defaults"
              + " (password, secret, token, api key, ...).")
  List<String> dashboardMask;

  @Option(
      names = "--metrics",
      paramLabel = "[HOST:]PORT",
      converter = HostPort.Converter.class,
      description =
          "Serve Prometheus metrics at http://HOST:PORT/metrics without the dashboard, e.g."
              + " :9464: this worker's tasks by name and outcome, runtimes, retries, running"
              + " tasks, the queues' depth and lag, dead letters, workers, and the JVM.")
  HostPort metricsAt;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (dashboardAt == null && (dashboardReadOnly || dashboardMask != null)) {
      throw new UsageException(
          (dashboardReadOnly ? "--read-only" : "--mask")
              + " is a dashboard option: add --dashboard");
    }
    WorkerOptions options = options();
    ErrandApp errandApp = AppLoader.load(app, classpath);
    TaskRegistry tasks = new TaskRegistry();
    errandApp.register(tasks);
    if (tasks.isEmpty()) {
      throw new UsageException("--app " + app + " registered no tasks");
    }
    PrometheusMeterRegistry registry = metricsAt == null ? null : metricsRegistry();
    Backend b = backend.open();
    Worker worker;
    Beat scheduler = null;
    try {
      Worker.Builder wb = Worker.builder(b).tasks(tasks).options(options);
      if (registry != null) {
        wb.listener(new WorkerMetrics(registry));
      }
      worker = wb.build();
      if (beat) {
        Beat.Builder bb = Beat.builder(Client.builder(b).routes(errandApp.routes()).build());
        if (errandApp instanceof ScheduleSource source) {
          bb.schedules(source.schedules());
        }
        scheduler = bb.build();
      }
    } catch (RuntimeException e) {
      b.close();
      throw e;
    }
    Beat startedBeat = scheduler;
    Dashboard dashboard = dashboardAt == null ? null : dashboard(b);
    BackendMetrics gauges = registry == null ? null : new BackendMetrics(b);
    if (gauges != null) {
      gauges.bindTo(registry);
    }
    PrometheusEndpoint metricsEndpoint = null;
    if (gauges != null) {
      try {
        metricsEndpoint =
            PrometheusEndpoint.start(registry, metricsAt.host(), metricsAt.port(), gauges::refresh);
      } catch (RuntimeException e) {
        b.close();
        throw new UsageException("--metrics " + e.getMessage());
      }
    }
    PrometheusEndpoint startedMetrics = metricsEndpoint;
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              if (startedBeat != null) {
                startedBeat.close();
              }
              if (dashboard != null) {
                dashboard.close();
              }
              worker.close();
              if (startedMetrics != null) {
                startedMetrics.close();
              }
              b.close();
              stopped.countDown();
            },
            "errand-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    var out = spec.commandLine().getOut();
    out.printf(
        "errand worker %s%n  broker:      %s%n  queues:      %s%n  concurrency: %d (%s), prefetch %d%n  tasks:       %s%n",
        worker.name(),
        b.describe(),
        String.join(", ", options.queues()),
        options.concurrency(),
        options.pool().label(),
        options.prefetch(),
        String.join(", ", tasks.names()));
    if (startedBeat != null) {
      startedBeat.start();
      out.printf("  beat:        %s%n", startedBeat.name());
    }
    if (dashboard != null) {
      dashboard.start();
      out.printf("  dashboard:   %s%s%n", dashboard.url(), dashboardReadOnly ? " (read-only)" : "");
    }
    if (metricsEndpoint != null) {
      out.printf("  metrics:     %s%n", metricsEndpoint.url());
    }
    out.flush();
    worker.start();
    // The JVM's shutdown hook stops the worker on SIGTERM/SIGINT; this thread just waits.
    while (!worker.awaitTermination(Duration.ofHours(1))) {
      // keep waiting: only a signal stops a worker
    }
    stopped.await();
    return 0;
  }

  /** A dashboard at {@code --dashboard [HOST:]PORT}; beyond loopback it needs the token env. */
  private Dashboard dashboard(Backend b) {
    Dashboard.Builder d =
        Dashboard.builder(b)
            .bind(dashboardAt.host())
            .port(dashboardAt.port())
            .readOnly(dashboardReadOnly);
    if (dashboardMask != null) {
      DashboardCommand.DashboardOptions.mask(d, dashboardMask);
    }
    String token = System.getenv("ERRAND_DASHBOARD_TOKEN");
    if (token != null && !token.isBlank()) {
      d.token(token);
    }
    return d.build();
  }

  /** The worker's own meters, the backend's gauges and the JVM's, in one Prometheus registry. */
  private static PrometheusMeterRegistry metricsRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  private WorkerOptions options() {
    WorkerOptions.Builder o = WorkerOptions.builder().queues(queues).pool(Pool.fromLabel(pool));
    if (concurrency != null) o.concurrency(concurrency);
    if (prefetch != null) o.prefetch(prefetch);
    if (name != null) o.name(name);
    if (lease != null) o.leaseDuration(lease);
    if (shutdownTimeout != null) o.shutdownTimeout(shutdownTimeout);
    if (maxDeliveries != null) o.maxDeliveries(maxDeliveries);
    return o.build();
  }
}
