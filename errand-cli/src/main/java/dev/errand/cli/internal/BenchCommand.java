package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.cli.internal.bench.Bench;
import dev.errand.cli.internal.bench.BenchResult;
import dev.errand.cli.internal.bench.LatencyBench;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import dev.errand.worker.Pool;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand bench}: measures enqueue, drain and latency on the real code path. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure a backend on the real code path: enqueue rate (one at a time and batched),",
      "drain rate of N pre-enqueued no-op tasks, drain of tasks that sleep 10 ms, and",
      "enqueue-to-start latency at a fixed rate, with the worker in this JVM and in an",
      "errand worker process of its own; then the process's resident memory.",
      "Uses its own queues and purges them after; results expire after 10 minutes (a day",
      "for those of the worker process).",
      "With --enqueue-only it just enqueues N no-op tasks on --queue and exits, for a real",
      "worker process to drain: errand worker --app " + BenchCommand.APP + " -Q bench"
    })
final class BenchCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Option(
      names = {"-n", "--tasks"},
      paramLabel = "N",
      description = "Tasks to drain (default: 20000).")
  int tasks = 20_000;

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N",
      description = "Worker concurrency (default: 8).")
  int concurrency = 8;

  @Option(
      names = "--pool",
      paramLabel = "POOL",
      description = "threads or virtual (default: threads).")
  String pool = "threads";

  @Option(
      names = "--payload",
      paramLabel = "BYTES",
      description = "Bytes of payload per task (default: 100).")
  int payload = 100;

  @Option(names = "--results", paramLabel = "on|off", description = "Store results (default: on).")
  String results = "on";

  @Option(
      names = "--prefetch",
      paramLabel = "N",
      description = "Worker prefetch (default: the worker's default, the concurrency).")
  int prefetch = 0;

  @Option(
      names = "--latency-rate",
      paramLabel = "N",
      description = "Tasks per second in the latency steps (default: 50).")
  int latencyRate = 50;

  @Option(
      names = "--latency-tasks",
      paramLabel = "N",
      description = "Tasks timed in each latency step (default: 2000, so p99 is 20 samples).")
  int latencyTasks = 2_000;

  @Option(
      names = "--latency-mode",
      paramLabel = "MODE",
      description =
          "Where the latency step's worker runs: in-process (this JVM), process (an errand"
              + " worker process of its own, the deployment shape; not for memory:), both, or"
              + " none (default: both, or in-process for memory:).")
  String latencyMode;

  @Option(names = "--latency-only", description = "Run only the warm-up and the latency steps.")
  boolean latencyOnly;

  @Option(
      names = "--latency-samples",
      paramLabel = "FILE",
      description = "Append every latency sample to FILE, one 'MODE SEQ MICROS' line each.")
  java.nio.file.Path latencySamples;

  @Option(
      names = "--sleep-tasks",
      paramLabel = "N",
      description = "Tasks sleeping 10 ms to drain (default: 2000).")
  int sleepTasks = 2_000;

  @Option(
      names = "--sleep-concurrency",
      paramLabel = "N",
      description = "Concurrency for the sleeping tasks (default: --concurrency).")
  Integer sleepConcurrency;

  @Option(
      names = "--sleep-pool",
      paramLabel = "POOL",
      description = "Pool for the sleeping tasks: threads or virtual (default: --pool).")
  String sleepPool;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Tasks run before anything is timed, to warm the JIT (default: 20000).")
  int warmup = 20_000;

  @Option(
      names = "--enqueue-only",
      description =
          "Only enqueue --tasks no-op tasks (with --payload, --results) on --queue, and exit.")
  boolean enqueueOnly;

  @Option(
      names = "--queue",
      paramLabel = "QUEUE",
      description = "With --enqueue-only: the queue (default: bench).")
  String queue;

  /** The app whose worker runs the tasks of {@code --enqueue-only}. */
  static final String APP = "dev.errand.cli.internal.bench.BenchApp";

  /** The largest --payload: a message's limit less room for its envelope (id, name, headers). */
  static final int MAX_PAYLOAD = Client.DEFAULT_MAX_MESSAGE_BYTES - 4096;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (tasks <= 0) throw new UsageException("--tasks must be > 0 but was " + tasks);
    if (payload < 0 || payload > MAX_PAYLOAD) {
      throw new UsageException(
          "--payload must be 0-"
              + MAX_PAYLOAD
              + " but was "
              + payload
              + ": a task's message, payload and envelope, is at most "
              + Client.DEFAULT_MAX_MESSAGE_BYTES
              + " bytes");
    }
    if (!results.equals("on") && !results.equals("off")) {
      throw new UsageException("--results must be on or off but was '" + results + "'");
    }
    if (queue != null && !enqueueOnly) {
      throw new UsageException("--queue is an --enqueue-only option: add --enqueue-only");
    }
    if (enqueueOnly) {
      return enqueueOnly();
    }
    if (latencyRate <= 0 || latencyRate > 10_000) {
      throw new UsageException("--latency-rate must be 1-10000 but was " + latencyRate);
    }
    if (latencyTasks <= 0) {
      throw new UsageException("--latency-tasks must be > 0 but was " + latencyTasks);
    }
    java.util.Set<LatencyBench.Mode> modes = latencyModes(backend.url());
    if (sleepTasks <= 0)
      throw new UsageException("--sleep-tasks must be > 0 but was " + sleepTasks);
    if (warmup < 0) throw new UsageException("--warmup must be >= 0 but was " + warmup);
    Pool p = WorkerLimits.pool("--pool", pool);
    Pool sleepP = sleepPool == null ? p : WorkerLimits.pool("--sleep-pool", sleepPool);
    WorkerLimits limits = WorkerLimits.current();
    limits.concurrency("--concurrency", concurrency, p);
    limits.prefetch("--prefetch", prefetch, false);
    int sleepC = sleepConcurrency == null ? concurrency : sleepConcurrency;
    limits.concurrency("--sleep-concurrency", sleepC, sleepP);
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.errand"))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    Bench.Settings settings =
        new Bench.Settings(
            tasks,
            concurrency,
            p,
            prefetch,
            payload,
            results.equals("on"),
            latencyRate,
            sleepTasks,
            sleepC,
            sleepP,
            warmup,
            latencyTasks,
            modes,
            latencyOnly,
            latencySamples,
            backend.url());
    PrintWriter out = spec.commandLine().getOut();
    BenchResult r;
    try (Backend b = backend.open()) {
      if (!output.json) {
        out.printf(
            "errand bench on %s: %d tasks, concurrency %d (%s, prefetch %s), payload %d B,"
                + " results %s, Java %d, %d CPUs%n",
            b.describe(),
            tasks,
            concurrency,
            p.label(),
            prefetch == 0 ? "default" : String.valueOf(prefetch),
            payload,
            results,
            Runtime.version().feature(),
            Runtime.getRuntime().availableProcessors());
        out.flush();
      }
      r = new Bench(b, settings).run();
    }
    if (output.json) {
      ObjectNode o = Wire.mapper().createObjectNode();
      o.put("backend", backend.url());
      o.put("tasks", tasks);
      o.put("concurrency", concurrency);
      o.put("pool", p.label());
      o.put("prefetch", prefetch);
      o.put("latencyRate", latencyRate);
      o.put("latencyTasks", latencyTasks);
      o.put("latencyModes", modes.stream().map(LatencyBench.Mode::label).toList().toString());
      o.put("sleepConcurrency", sleepC);
      o.put("sleepPool", sleepP.label());
      o.put("payloadBytes", payload);
      o.put("results", results.equals("on"));
      o.set("figures", Wire.mapper().valueToTree(r));
      OutputOptions.printJson(out, o);
      return 0;
    }
    List<List<String>> rows = new java.util.ArrayList<>();
    if (!latencyOnly) {
      rows.add(List.of("enqueue, one call per task", rate(r.enqueueSingle)));
      rows.add(
          List.of(
              "enqueue, one call per task, " + Bench.PRODUCERS + " threads",
              rate(r.enqueueConcurrent)));
      rows.add(List.of("enqueue, batches of 500", rate(r.enqueueBatched)));
      rows.add(List.of("drain " + tasks + " no-op tasks", rate(r.drainNoop)));
      rows.add(
          List.of(
              "  CPU of this process per drained task",
              String.format("%.0f us", r.drainCpuMicros)));
    }
    latencyRows(
        rows,
        "latency enqueue->start, worker in this JVM",
        r.latencyTasks,
        new double[] {r.latencyP50Ms, r.latencyP95Ms, r.latencyP99Ms, r.latencyMaxMs});
    latencyRows(
        rows,
        "latency commit->start, enqueue in a transaction, worker in this JVM",
        r.txLatencyTasks,
        new double[] {r.txLatencyP50Ms, r.txLatencyP95Ms, r.txLatencyP99Ms, r.txLatencyMaxMs});
    latencyRows(
        rows,
        "latency enqueue->start, worker process",
        r.processLatencyTasks,
        new double[] {
          r.processLatencyP50Ms, r.processLatencyP95Ms, r.processLatencyP99Ms, r.processLatencyMaxMs
        });
    if (!latencyOnly) {
      rows.add(
          List.of(
              "drain "
                  + r.ioTasks
                  + " tasks sleeping 10 ms (c="
                  + sleepC
                  + ", "
                  + sleepP.label()
                  + ")",
              rate(r.drainSleep)));
    }
    if (!Double.isNaN(r.processWorkerRssMb)) {
      rows.add(
          List.of(
              "resident memory of the worker process after its run",
              String.format("%.0f MiB", r.processWorkerRssMb)));
    }
    rows.add(
        List.of(
            "resident memory of this JVM after the run (harness and its workers)",
            String.format("%.0f MiB", r.rssMb)));
    OutputOptions.printTable(
        spec.commandLine().getColorScheme().ansi(), out, List.of("MEASURE", "VALUE"), rows);
    return 0;
  }

  /** {@code --enqueue-only}: the tasks a separate worker process drains. */
  private int enqueueOnly() {
    String q = queue == null ? "bench" : queue;
    Bench.Settings settings =
        new Bench.Settings(
            tasks,
            1,
            Pool.THREADS,
            0,
            payload,
            results.equals("on"),
            1,
            1,
            1,
            Pool.THREADS,
            0,
            0,
            java.util.EnumSet.noneOf(LatencyBench.Mode.class),
            false,
            null,
            backend.url());
    PrintWriter out = spec.commandLine().getOut();
    try (Backend b = backend.open()) {
      double rate = new Bench(b, settings).enqueueOnly(q);
      out.printf(
          "enqueued %d no-op tasks on queue %s of %s (%s); drain them with%n"
              + "  errand worker --broker URL --app %s -Q %s%n",
          tasks, q, b.describe(), rate(rate), APP, q);
    }
    out.flush();
    return 0;
  }

  private void latencyRows(List<List<String>> rows, String where, int samples, double[] ms) {
    if (samples == 0) {
      return;
    }
    String[] names = {"p50", "p95", "p99", "max"};
    for (int i = 0; i < names.length; i++) {
      String label =
          i == 0
              ? where + ", p50 (" + samples + " tasks at " + latencyRate + "/s)"
              : "  " + names[i];
      rows.add(List.of(label, ms(ms[i])));
    }
  }

  /** The latency steps asked for: --latency-mode, by default both (in-process for memory:). */
  private java.util.Set<LatencyBench.Mode> latencyModes(String url) {
    boolean memory = url.startsWith("memory:");
    String mode = latencyMode == null ? (memory ? "in-process" : "both") : latencyMode;
    java.util.Set<LatencyBench.Mode> modes =
        switch (mode) {
          case "in-process" -> java.util.EnumSet.of(LatencyBench.Mode.IN_PROCESS);
          case "process" -> java.util.EnumSet.of(LatencyBench.Mode.PROCESS);
          case "both" ->
              java.util.EnumSet.of(LatencyBench.Mode.IN_PROCESS, LatencyBench.Mode.PROCESS);
          case "none" -> java.util.EnumSet.noneOf(LatencyBench.Mode.class);
          default ->
              throw new UsageException(
                  "--latency-mode must be in-process, process, both or none but was '"
                      + mode
                      + "'");
        };
    if (memory && modes.contains(LatencyBench.Mode.PROCESS)) {
      throw new UsageException(
          "--latency-mode "
              + mode
              + " needs a backend another process can reach, not "
              + url
              + ": use in-process");
    }
    return modes;
  }

  private static String rate(double perSecond) {
    return String.format("%,.0f tasks/s", perSecond);
  }

  private static String ms(double ms) {
    return String.format("%.2f ms", ms);
  }
}
