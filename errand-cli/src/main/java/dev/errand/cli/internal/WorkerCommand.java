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
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
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
      paramLabel = "QUEUE[:WEIGHT]",
      description = {
        "Queues to consume (default: default). Served in turn (round-robin) unless",
        "--queue-order says otherwise; a :WEIGHT (1-1000) serves a queue in proportion,",
        "e.g. critical:5,default:2,low:1."
      })
  List<String> queues = List.of("default");

  @Option(
      names = "--queue-order",
      paramLabel = "ORDER",
      description = {
        "round-robin (default), strict (in the order given: a later queue only when every",
        "earlier one is empty) or weighted (the default when weights are given)."
      })
  String queueOrder;

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N|MIN..MAX",
      description = {
        "Tasks run at once (default: number of CPUs); at most half the OS thread limit with",
        "threads, the heap / 64 KiB with virtual. MIN..MAX (e.g. 2..32) autoscales: a thread is",
        "added while prefetched tasks wait for one, and ends after --scale-down-after idle."
      })
  String concurrency;

  @Option(
      names = "--scale-down-after",
      paramLabel = "DURATION",
      description = "With -c MIN..MAX: how long a thread above MIN stays idle (default: 30s).")
  Duration scaleDownAfter;

  @Option(
      names = "--pool",
      paramLabel = "POOL",
      description = "threads or virtual (virtual needs Java 21+; default: threads).")
  String pool = "threads";

  @Option(
      names = "--prefetch",
      paramLabel = "N",
      description =
          "Messages held beyond the running ones (default: the concurrency); at most the heap /"
              + " 1 MiB.")
  Integer prefetch;

  @Option(
      names = {"-n", "--name"},
      paramLabel = "NAME",
      description = "Worker name (default: errand@host:pid).")
  String name;

  @Option(
      names = "--lease",
      paramLabel = "DURATION",
      description = "Lease duration, 1s to 1h (default: 30s); renewed while a task runs.")
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

  @Option(
      names = "--no-supervisor",
      description =
          "Run the worker in this process instead of under a supervisor that recycles it (stuck"
              + " threads then stay until the process ends; the --max-*-per-child limits need the"
              + " supervisor).")
  boolean noSupervisor;

  @Option(
      names = "--max-tasks-per-child",
      paramLabel = "N",
      description =
          "Recycle the worker process after N tasks, for leaky task code (default: never).")
  Integer maxTasksPerChild;

  @Option(
      names = "--max-memory-per-child",
      paramLabel = "SIZE",
      converter = ByteSize.class,
      description =
          "Recycle the worker process when its resident memory passes SIZE, e.g. 512m or 2g"
              + " (default: never).")
  Long maxMemoryPerChild;

  @Option(
      names = "--max-stuck-threads",
      paramLabel = "N",
      description =
          "Recycle the worker process when more than N threads are stuck past their hard time"
              + " limit (default: 0, at the first).")
  int maxStuckThreads;

  @Option(names = WorkerSupervisor.CHILD_OPTION, hidden = true, paramLabel = "PID:FILE")
  String supervisedBy;

  /** For the launcher's supervisor: send the retries an exited worker process left in FILE. */
  @Option(names = "--send-held-retries", hidden = true, paramLabel = "FILE")
  Path sendHeldRetries;

  /** The shortest lease a worker takes (as {@link WorkerOptions.Builder#leaseDuration}). */
  static final Duration MIN_LEASE = Duration.ofSeconds(1);

  /** The longest lease: beyond it a killed worker's tasks wait too long to run again. */
  static final Duration MAX_LEASE = Duration.ofHours(1);

  /** Why {@link #MAX_LEASE}, for the message that refuses a longer one. */
  static final String LEASE_WHY =
      "a killed worker's tasks wait out its lease before they run again, and a running task's"
          + " lease is renewed every third of it, so a long task never needs a long lease";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (sendHeldRetries != null) {
      return HeldRetryFile.sendFrom(sendHeldRetries, backend::open) ? 0 : ErrandCommand.FAILURE;
    }
    if (dashboardAt == null && (dashboardReadOnly || dashboardMask != null)) {
      throw new UsageException(
          (dashboardReadOnly ? "--read-only" : "--mask")
              + " is a dashboard option: add --dashboard");
    }
    WorkerOptions options = options();
    if (maxTasksPerChild != null && maxTasksPerChild <= 0) {
      throw new UsageException("--max-tasks-per-child must be > 0 but was " + maxTasksPerChild);
    }
    if (maxStuckThreads < 0) {
      throw new UsageException("--max-stuck-threads must be >= 0 but was " + maxStuckThreads);
    }
    if (noSupervisor && (maxTasksPerChild != null || maxMemoryPerChild != null)) {
      throw new UsageException(
          "--max-tasks-per-child and --max-memory-per-child recycle the worker process, which"
              + " needs its supervisor: drop --no-supervisor");
    }
    if (!noSupervisor && supervisedBy == null) {
      AppLoader.check(app, classpath); // bad usage is told here, not by a worker process
      List<String> args = spec.root().commandLine().getParseResult().originalArgs();
      return new WorkerSupervisor(args, backend::open, options.shutdownTimeout()).run();
    }
    SupervisedChild child =
        supervisedBy == null
            ? null
            : SupervisedChild.of(
                supervisedBy,
                new SupervisedChild.Limits(maxTasksPerChild, maxMemoryPerChild, maxStuckThreads));
    ErrandApp errandApp = AppLoader.load(app, classpath);
    TaskRegistry tasks = new TaskRegistry();
    errandApp.register(tasks);
    if (tasks.isEmpty()) {
      throw new UsageException("--app " + app + " registered no tasks");
    }
    PrometheusMeterRegistry registry = metricsAt == null ? null : metricsRegistry();
    GracefulStop stop = new GracefulStop().listen();
    Backend b = backend.open();
    Worker worker;
    Beat scheduler = null;
    try {
      Worker.Builder wb =
          Worker.builder(b).tasks(tasks).options(options).routes(errandApp.routes());
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
        metricsEndpoint = PrometheusEndpoint.start(registry, metricsAt.host(), metricsAt.port());
      } catch (RuntimeException e) {
        gauges.close();
        b.close();
        throw new UsageException("--metrics " + e.getMessage());
      }
    }
    PrometheusEndpoint startedMetrics = metricsEndpoint;
    // Stopped in this order on SIGTERM/SIGINT: nothing new is scheduled or served while the worker
    // finishes its tasks, and the backend closes last.
    if (startedBeat != null) stop.then("scheduler", startedBeat::close);
    if (dashboard != null) stop.then("dashboard", dashboard::close);
    stop.then("worker", worker::close);
    if (child != null) {
      // After the worker stopped: the retries held for its stuck threads go to the supervisor.
      stop.then("hand-off", () -> child.handOff(worker));
    }
    if (startedMetrics != null) {
      stop.then("metrics endpoint", startedMetrics::close);
      stop.then("metrics gauges", gauges::close);
    }
    stop.then("backend", b::close);
    var out = spec.commandLine().getOut();
    out.printf(
        "errand worker %s%n  broker:      %s%n  queues:      %s%n  concurrency: %s (%s), prefetch %d%n  tasks:       %s%n",
        worker.name(),
        b.describe(),
        QueueFlags.describe(options),
        options.autoscaling()
            ? options.minConcurrency() + ".." + options.concurrency()
            : String.valueOf(options.concurrency()),
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
    if (child != null) {
      child.watch(worker, stop::requestStop);
    }
    boolean clean = stop.awaitStop();
    if (child != null && child.recycling()) {
      return WorkerSupervisor.RECYCLE;
    }
    return clean ? 0 : ErrandCommand.FAILURE;
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

  /**
   * {@code --concurrency} as {@code {min, max}}: {@code N} is {@code {N, N}}, {@code MIN..MAX}
   * autoscales; absent, the number of processors.
   */
  static int[] concurrencyRange(String value) {
    if (value == null) {
      return new int[] {WorkerOptions.DEFAULT_CONCURRENCY, WorkerOptions.DEFAULT_CONCURRENCY};
    }
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d{1,9})(?:\\.\\.(\\d{1,9}))?").matcher(value.trim());
    if (!m.matches()) {
      throw new UsageException(
          "--concurrency must be N or MIN..MAX (e.g. 8, or 2..32) but was '" + value + "'");
    }
    int min = Integer.parseInt(m.group(1));
    if (m.group(2) == null) {
      return new int[] {min, min}; // checked against the machine's limits by the caller
    }
    int max = Integer.parseInt(m.group(2));
    if (min < 1 || max < min) {
      throw new UsageException(
          "--concurrency must be N or MIN..MAX with 1 <= MIN <= MAX but was '" + value + "'");
    }
    return new int[] {min, max};
  }

  /** The options of the flags, each checked against what this machine can run. */
  private WorkerOptions options() {
    Pool p = WorkerLimits.pool("--pool", pool);
    WorkerLimits limits = WorkerLimits.current();
    int[] range = concurrencyRange(concurrency);
    int c = limits.concurrency("--concurrency", range[1], p);
    WorkerOptions.Builder o = WorkerOptions.builder().pool(p);
    QueueFlags.apply(o, queues, queueOrder);
    if (range[0] < range[1]) {
      o.autoscale(range[0], c);
    } else {
      o.concurrency(c);
    }
    if (scaleDownAfter != null) {
      if (range[0] == range[1]) {
        throw new UsageException("--scale-down-after only applies with -c MIN..MAX");
      }
      o.scaleDownAfter(Checks.positive("--scale-down-after", scaleDownAfter));
    }
    o.prefetch(
        limits.prefetch("--prefetch", prefetch != null ? prefetch : range[0], prefetch == null));
    if (name != null) o.name(name);
    if (lease != null) {
      o.leaseDuration(Checks.between("--lease", lease, MIN_LEASE, MAX_LEASE, LEASE_WHY));
    }
    if (shutdownTimeout != null) {
      o.shutdownTimeout(Checks.notNegative("--shutdown-timeout", shutdownTimeout));
    }
    if (maxTasksPerChild != null && supervisedBy != null) {
      o.maxTasks(maxTasksPerChild);
    }
    if (maxDeliveries != null) {
      o.maxDeliveries(Checks.positive("--max-deliveries", maxDeliveries));
    }
    return o.build();
  }
}
