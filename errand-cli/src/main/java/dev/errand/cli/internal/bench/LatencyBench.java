package dev.errand.cli.internal.bench;

import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.cli.Main;
import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The latency step of {@code errand bench}: probes sent one at a time at a fixed rate to an idle,
 * running worker, each timed from the enqueue call to the start of its handler. Two shapes:
 *
 * <ul>
 *   <li><b>in-process</b>: the worker runs in the harness's JVM (both read {@link
 *       System#nanoTime()}), warmed by the harness's warm-up and drains;
 *   <li><b>process</b>: the deployment shape, the worker a real {@code errand worker} process (with
 *       its supervisor) running {@link LatencyApp}; producer and handler read the host's wall
 *       clock. The worker is warmed first with the harness's warm-up count of probes, as a
 *       long-running worker is warm.
 * </ul>
 *
 * <p>In both, unrecorded probes go first: a quarter of the warm-up count (5,000 by default) one at
 * a time at {@link #IDLE_WARMUP_RATE} per second, then a second of them at the rate, then a
 * second's pause. Every warm-up probe is sent with the options of the recorded ones (results on or
 * off as the step): with results on, the worker stores three statuses and a result per probe, and a
 * worker warmed without them was still compiling that code during the first 10 to 20 seconds of the
 * step, where most of its slow probes were.
 */
public final class LatencyBench {

  /** Where the worker of a latency step runs. */
  public enum Mode {
    /** In the harness's JVM. */
    IN_PROCESS("in-process"),
    /** In an {@code errand worker} process of its own. */
    PROCESS("process"),
    /** In the harness's JVM, each probe enqueued in a transaction (PostgreSQL only). */
    IN_TRANSACTION("in-transaction");

    private final String label;

    Mode(String label) {
      this.label = label;
    }

    /** The name {@code --latency-mode} and the samples file use. */
    public String label() {
      return label;
    }
  }

  /**
   * The figures of one latency step; times in milliseconds.
   *
   * @param workerRssMb the worker process's resident memory after the step (process mode; its
   *     supervisor not counted), MiB, or NaN
   */
  record Figures(
      int tasks, double p50Ms, double p95Ms, double p99Ms, double maxMs, double workerRssMb) {}

  /** Pause between a worker's start and the first probe, so its start-up is not measured. */
  static final Duration SETTLE = Duration.ofSeconds(1);

  /**
   * Unrecorded probes sent one at a time before the step, fast enough to take minutes off the
   * warm-up and slow enough that the worker goes idle between them: each one takes the idle path
   * (wake-up, a claim of one, a hand-off to an idle slot) that the step times and that a bulk drain
   * never takes. Without them the JIT was still compiling that path during the step (20 to 70
   * methods every 5 s in the worker process, each compile holding one of the machine's CPUs).
   */
  static final int IDLE_WARMUP_RATE = 500;

  /** The longest the probes may take to arrive after the last was sent. */
  static final Duration STRAGGLERS = Duration.ofMinutes(2);

  private final Backend backend;
  private final Client client;
  private final Bench.Settings settings;
  private final String run;
  private final String payload;

  LatencyBench(Backend backend, Client client, Bench.Settings settings, String run) {
    this.backend = backend;
    this.client = client;
    this.settings = settings;
    this.run = run;
    this.payload = "x".repeat(settings.payloadBytes());
  }

  /** Probes to a worker in this JVM, on {@code queue}. */
  Figures inProcess(String queue, Worker.Builder worker) throws InterruptedException, IOException {
    int n = settings.latencyTasks();
    long[] samples = new long[n];
    Arrays.fill(samples, -1);
    CountDownLatch done = new CountDownLatch(n);
    TaskRegistry tasks =
        new TaskRegistry()
            .handleVoid(
                Bench.LATENCY,
                (job, ctx) -> {
                  long nanos = System.nanoTime() - job.sentNanos();
                  if (job.seq() >= 0 && job.seq() < n) {
                    samples[job.seq()] = nanos;
                    done.countDown();
                  }
                });
    Worker w = worker.tasks(tasks).build();
    w.start();
    try {
      // Probes on the idle path, then a second of them at the rate, none recorded, as in the
      // process mode: the worker has just started, and the drains before may have left the JVM
      // compiling and collecting.
      TaskOptions options = options(queue, settings.results());
      pace(
          idleWarmup(),
          IDLE_WARMUP_RATE,
          i ->
              client.enqueue(
                  Bench.LATENCY, new Bench.Job(-1, System.nanoTime(), payload), options));
      pace(
          settings.latencyRate(),
          i ->
              client.enqueue(
                  Bench.LATENCY, new Bench.Job(-1, System.nanoTime(), payload), options));
      Thread.sleep(SETTLE.toMillis());
      pace(
          n,
          i ->
              client.enqueue(Bench.LATENCY, new Bench.Job(i, System.nanoTime(), payload), options));
      done.await(STRAGGLERS.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      w.shutdown(Duration.ofSeconds(10));
    }
    return figures(Mode.IN_PROCESS, samples, Double.NaN);
  }

  /**
   * PostgreSQL only: probes enqueued each in a transaction of its own on a connection of the
   * backend's pool ({@link Client#inTransaction}), to a worker in this JVM; a sample runs from the
   * moment {@code commit()} is called to the handler's start, the time a task written with the
   * application's own data takes to reach a waiting worker.
   */
  Figures inTransaction(String queue, Worker.Builder worker, javax.sql.DataSource db)
      throws InterruptedException, IOException {
    int n = settings.latencyTasks();
    long[] samples = new long[n];
    Arrays.fill(samples, -1);
    java.util.concurrent.atomic.AtomicLongArray committing =
        new java.util.concurrent.atomic.AtomicLongArray(n);
    CountDownLatch done = new CountDownLatch(n);
    TaskRegistry tasks =
        new TaskRegistry()
            .handleVoid(
                Bench.LATENCY,
                (job, ctx) -> {
                  long now = System.nanoTime();
                  if (job.seq() >= 0 && job.seq() < n) {
                    samples[job.seq()] = now - committing.get(job.seq());
                    done.countDown();
                  }
                });
    Worker w = worker.tasks(tasks).build();
    w.start();
    TaskOptions options = options(queue, settings.results());
    java.util.function.IntConsumer send =
        i -> {
          try (java.sql.Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            client.inTransaction(c).enqueue(Bench.LATENCY, new Bench.Job(i, 0, payload), options);
            if (i >= 0) {
              committing.set(i, System.nanoTime());
            }
            c.commit();
          } catch (java.sql.SQLException e) {
            throw new IllegalStateException("enqueue in a transaction failed: " + e, e);
          }
        };
    try {
      pace(idleWarmup(), IDLE_WARMUP_RATE, i -> send.accept(-1));
      pace(settings.latencyRate(), i -> send.accept(-1));
      Thread.sleep(SETTLE.toMillis());
      pace(n, send);
      done.await(STRAGGLERS.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      w.shutdown(Duration.ofSeconds(10));
    }
    return figures(Mode.IN_TRANSACTION, samples, Double.NaN);
  }

  /**
   * Probes to an {@code errand worker} process started for the purpose on {@code queue}, with the
   * harness's concurrency, pool and prefetch.
   *
   * @param url the backend's URL, for the worker process
   */
  Figures process(String queue, String url) throws InterruptedException, IOException {
    int n = settings.latencyTasks();
    Path dir = Files.createTempDirectory("errand-bench-latency-");
    Path log = dir.resolve("probes.txt");
    Path out = dir.resolve("worker.out");
    Process worker = startWorker(queue, url, out);
    double rss = Double.NaN;
    try {
      // A long-running worker is warm: its JIT has compiled the hot path. Warm-up probes are
      // drained in bulk, then come one at a time on the idle path, then a second of them at the
      // rate, none recorded, all with the recorded probes' options.
      TaskOptions options = options(queue, settings.results());
      List<LatencyApp.Probe> batch = new ArrayList<>(Bench.BATCH);
      for (int sent = 0; sent < settings.warmupTasks(); sent += Bench.BATCH) {
        batch.clear();
        for (int i = 0; i < Math.min(Bench.BATCH, settings.warmupTasks() - sent); i++) {
          batch.add(new LatencyApp.Probe(-1, LatencyApp.nowMicros(), payload, null));
        }
        client.enqueueAll(LatencyApp.PROBE, batch, options);
      }
      awaitEmpty(queue, worker, out);
      pace(
          idleWarmup(),
          IDLE_WARMUP_RATE,
          i ->
              client.enqueue(
                  LatencyApp.PROBE,
                  new LatencyApp.Probe(-1, LatencyApp.nowMicros(), payload, null),
                  options));
      pace(
          settings.latencyRate(),
          i ->
              client.enqueue(
                  LatencyApp.PROBE,
                  new LatencyApp.Probe(-1, LatencyApp.nowMicros(), payload, null),
                  options));
      awaitEmpty(queue, worker, out);
      Thread.sleep(SETTLE.toMillis());
      String logName = log.toString();
      pace(
          n,
          i ->
              client.enqueue(
                  LatencyApp.PROBE,
                  new LatencyApp.Probe(i, LatencyApp.nowMicros(), payload, logName),
                  options));
      long deadline = System.nanoTime() + STRAGGLERS.toNanos();
      while (LatencyApp.lines(log) < n && System.nanoTime() < deadline) {
        checkAlive(worker, out);
        Thread.sleep(100);
      }
      rss = workerRss(worker);
    } finally {
      stop(worker);
    }
    Figures f = figures(Mode.PROCESS, LatencyApp.read(log, n), rss);
    Files.deleteIfExists(log);
    Files.deleteIfExists(out);
    Files.deleteIfExists(dir);
    return f;
  }

  private Process startWorker(String queue, String url, Path out) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    // The worker runs with this JVM's options (ERRAND_JAVA_OPTS of ./errand), as `errand worker`
    // would be started beside it.
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(
        List.of(
            "worker",
            "--app",
            LatencyApp.class.getName(),
            "--broker",
            url,
            "--queues",
            queue,
            "--name",
            "bench-" + run + "-latency-process",
            "--concurrency",
            String.valueOf(settings.concurrency()),
            "--pool",
            settings.pool().label(),
            "--shutdown-timeout",
            "10s"));
    if (settings.prefetch() > 0) {
      cmd.addAll(List.of("--prefetch", String.valueOf(settings.prefetch())));
    }
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
  }

  /**
   * The resident memory of the worker process, MiB: the supervisor's children (the supervisor
   * itself, a JVM here, is left out: {@code ./errand worker} supervises from its shell), or the
   * started process itself if it has none.
   */
  private static double workerRss(Process started) {
    List<ProcessHandle> children = started.children().toList();
    if (children.isEmpty()) {
      return Bench.residentMegabytes(started.pid());
    }
    double sum = 0;
    for (ProcessHandle child : children) {
      sum += Bench.residentMegabytes(child.pid());
    }
    return sum;
  }

  /** Waits until {@code queue} holds nothing ready, leased or delayed. */
  private void awaitEmpty(String queue, Process worker, Path out)
      throws InterruptedException, IOException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (System.nanoTime() < deadline) {
      checkAlive(worker, out);
      QueueStats s = backend.broker().stats(queue);
      if (s.ready() + s.leased() + s.delayed() == 0) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the latency worker did not drain its warm-up in 10 minutes");
  }

  private static void checkAlive(Process worker, Path out) throws IOException {
    if (!worker.isAlive()) {
      throw new IllegalStateException(
          "the latency worker process exited with code "
              + worker.exitValue()
              + ":\n"
              + Files.readString(out, StandardCharsets.UTF_8));
    }
  }

  /** SIGTERM (its supervisor stops the worker gracefully), then SIGKILL after a minute. */
  private static void stop(Process worker) throws InterruptedException {
    worker.destroy();
    if (!worker.waitFor(1, TimeUnit.MINUTES)) {
      worker.descendants().forEach(ProcessHandle::destroyForcibly);
      worker.destroyForcibly();
      worker.waitFor();
    }
  }

  private static TaskOptions options(String queue, boolean results) {
    return TaskOptions.builder().queue(queue).ignoreResult(!results).build();
  }

  /** How many unrecorded probes go first on the idle path: a quarter of the warm-up. */
  private int idleWarmup() {
    return settings.warmupTasks() / 4;
  }

  /**
   * Sends {@code n} probes, one every 1/rate s, on schedule (a late send does not shift the rest).
   */
  private void pace(int n, java.util.function.IntConsumer send) throws InterruptedException {
    pace(n, settings.latencyRate(), send);
  }

  private static void pace(int n, int rate, java.util.function.IntConsumer send)
      throws InterruptedException {
    long interval = 1_000_000_000L / rate;
    long next = System.nanoTime();
    for (int i = 0; i < n; i++) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      send.accept(i);
      next += interval;
    }
  }

  /** Percentiles of the recorded samples (nanoseconds; -1 = not recorded), and the raw samples. */
  private Figures figures(Mode mode, long[] samples, double workerRssMb) throws IOException {
    if (settings.latencySamples() != null) {
      try (PrintWriter w =
          new PrintWriter(
              Files.newBufferedWriter(
                  settings.latencySamples(),
                  StandardCharsets.UTF_8,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.APPEND))) {
        for (int i = 0; i < samples.length; i++) {
          w.printf("%s %d %d%n", mode.label, i, samples[i] < 0 ? -1 : samples[i] / 1_000);
        }
      }
    }
    long[] sorted = Arrays.stream(samples).filter(s -> s >= 0).sorted().toArray();
    return new Figures(
        sorted.length,
        percentile(sorted, 0.50),
        percentile(sorted, 0.95),
        percentile(sorted, 0.99),
        sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6,
        workerRssMb);
  }

  static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }
}
