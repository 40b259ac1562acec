package dev.errand.cli.internal.bench;

import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import dev.errand.worker.Pool;
import dev.errand.worker.TaskContext;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerListener;
import dev.errand.worker.WorkerOptions;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The benchmark harness behind {@code errand bench}: measures the real code path (client, broker,
 * worker, result store) of one backend. Each run uses its own queue names and purges them after.
 */
public final class Bench {

  /**
   * What a benchmark task carries: its place in the sending order (latency probes), when it was
   * sent (this JVM's nano time) and a payload.
   */
  public record Job(int seq, long sentNanos, String payload) {}

  /** A task that does nothing. */
  public static final TaskDef<Job, Void> NOOP = TaskDef.of("bench.noop", Job.class);

  static final TaskDef<Job, Void> SLEEP = TaskDef.of("bench.sleep10ms", Job.class);
  static final TaskDef<Job, Void> LATENCY = TaskDef.of("bench.latency", Job.class);

  static final int BATCH = 500;

  /** Threads that enqueue at once in the concurrent step, like the request threads of a web app. */
  public static final int PRODUCERS = 8;

  /**
   * Results of benchmark tasks are kept this long (not a day): a benchmark should not fill Redis.
   */
  static final Duration RESULT_EXPIRES = Duration.ofMinutes(10);

  /**
   * Settings of one run.
   *
   * @param tasks no-op tasks to drain
   * @param concurrency worker concurrency for the drains and the latency step
   * @param pool worker pool for the drains and the latency step
   * @param prefetch worker prefetch (0: the worker default, the concurrency)
   * @param payloadBytes payload bytes per task
   * @param results whether results are stored
   * @param latencyRate tasks per second sent in the latency step
   * @param sleepTasks tasks sleeping 10 ms to drain
   * @param sleepConcurrency concurrency for the sleeping tasks
   * @param sleepPool pool for the sleeping tasks
   * @param warmupTasks tasks run before anything is timed (JIT, connections)
   * @param latencyTasks probes sent in each latency step
   * @param latencyModes the latency steps to run: in this JVM, against a worker process, or both
   * @param latencyOnly run the warm-up and the latency steps only
   * @param latencySamples a file each latency sample is appended to ({@code MODE SEQ MICROS}), or
   *     null
   * @param url the backend's URL, for the worker process of the separate-process latency step
   */
  public record Settings(
      int tasks,
      int concurrency,
      Pool pool,
      int prefetch,
      int payloadBytes,
      boolean results,
      int latencyRate,
      int sleepTasks,
      int sleepConcurrency,
      Pool sleepPool,
      int warmupTasks,
      int latencyTasks,
      java.util.Set<LatencyBench.Mode> latencyModes,
      boolean latencyOnly,
      java.nio.file.Path latencySamples,
      String url) {}

  private final Backend backend;
  private final Settings settings;
  private final String run = Long.toHexString(System.nanoTime());
  private final String payload;
  private final AtomicLong firstDone = new AtomicLong();
  private final AtomicLong lastDone = new AtomicLong();

  public Bench(Backend backend, Settings settings) {
    this.backend = backend;
    this.settings = settings;
    this.payload = "x".repeat(settings.payloadBytes());
  }

  /** Runs every measurement in turn. */
  public BenchResult run() throws InterruptedException, java.io.IOException {
    Client client = Client.builder(backend).sentEvents(false).build();
    BenchResult r = new BenchResult();
    String single = "bench-" + run + "-single";
    String drain = "bench-" + run + "-drain";
    String io = "bench-" + run + "-io";
    String lat = "bench-" + run + "-latency";
    String latProcess = "bench-" + run + "-latencyprocess";
    String warm = "bench-" + run + "-warmup";
    try {
      // Warm the JIT and the backend's connections before anything is timed.
      List<Job> warmJobs = new ArrayList<>(BATCH);
      for (int sent = 0; sent < settings.warmupTasks(); sent += BATCH) {
        warmJobs.clear();
        for (int i = 0; i < Math.min(BATCH, settings.warmupTasks() - sent); i++) {
          warmJobs.add(job());
        }
        client.enqueueAll(NOOP, warmJobs, options(warm));
      }
      int warmSingles = Math.max(2_000, settings.warmupTasks() / 5);
      for (int i = 0; i < warmSingles; i++) {
        client.enqueue(NOOP, job(), options(warm));
      }
      drain(warm, settings.warmupTasks() + warmSingles);
      if (!settings.latencyOnly()) {
        throughput(client, r, single, drain, io);
      }
      latency(client, lat, latProcess, r);
      r.rssMb = residentMegabytes();
    } finally {
      for (String q : List.of(warm, single, drain, io, lat, latProcess)) {
        backend.broker().purge(q);
      }
    }
    return r;
  }

  /** The enqueue and drain steps. */
  private void throughput(Client client, BenchResult r, String single, String drain, String io)
      throws InterruptedException {
    int singles = Math.min(settings.tasks(), 10_000);
    long t0 = System.nanoTime();
    for (int i = 0; i < singles; i++) {
      client.enqueue(NOOP, job(), options(single));
    }
    r.enqueueSingle = rate(singles, t0);
    r.enqueueConcurrent = enqueueConcurrently(client, singles, options(single));
    backend.broker().purge(single);

    List<Job> jobs = new ArrayList<>(BATCH);
    t0 = System.nanoTime();
    for (int sent = 0; sent < settings.tasks(); sent += BATCH) {
      jobs.clear();
      for (int i = 0; i < Math.min(BATCH, settings.tasks() - sent); i++) {
        jobs.add(job());
      }
      client.enqueueAll(NOOP, jobs, options(drain));
    }
    r.enqueueBatched = rate(settings.tasks(), t0);

    long cpu0 = processCpuNanos();
    r.drainNoop = drain(drain, settings.tasks());
    r.drainCpuMicros = (processCpuNanos() - cpu0) / 1e3 / settings.tasks();

    int ioTasks = settings.sleepTasks();
    for (int sent = 0; sent < ioTasks; sent += BATCH) {
      jobs.clear();
      for (int i = 0; i < Math.min(BATCH, ioTasks - sent); i++) {
        jobs.add(job());
      }
      client.enqueueAll(SLEEP, jobs, options(io));
    }
    r.ioTasks = ioTasks;
    r.drainSleep = drain(io, ioTasks, settings.sleepConcurrency(), settings.sleepPool());
  }

  /**
   * Enqueues {@code settings.tasks()} no-op tasks ({@code bench.noop}, run by {@link BenchApp}) on
   * {@code queue}, in batches, and returns how many per second; for {@code errand bench
   * --enqueue-only}. Their results, if stored, expire as the worker that runs them says.
   */
  public double enqueueOnly(String queue) {
    Client client = Client.builder(backend).sentEvents(false).build();
    TaskOptions o = TaskOptions.builder().queue(queue).ignoreResult(!settings.results()).build();
    List<Job> jobs = new ArrayList<>(BATCH);
    long t0 = System.nanoTime();
    for (int sent = 0; sent < settings.tasks(); sent += BATCH) {
      jobs.clear();
      for (int i = 0; i < Math.min(BATCH, settings.tasks() - sent); i++) {
        jobs.add(job());
      }
      client.enqueueAll(NOOP, jobs, o);
    }
    return rate(settings.tasks(), t0);
  }

  /** {@code total} single enqueues spread over {@link #PRODUCERS} threads; tasks per second. */
  private double enqueueConcurrently(Client client, int total, TaskOptions options)
      throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    for (int t = 0; t < PRODUCERS; t++) {
      int share = total / PRODUCERS + (t < total % PRODUCERS ? 1 : 0);
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int i = 0; i < share; i++) {
                    client.enqueue(NOOP, job(), options);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                  failure.compareAndSet(null, e);
                }
              },
              "bench-producer-" + t);
      thread.start();
      threads.add(thread);
    }
    long t0 = System.nanoTime();
    start.countDown();
    for (Thread thread : threads) {
      thread.join();
    }
    double rate = rate(total, t0);
    if (failure.get() != null) {
      throw failure.get();
    }
    return rate;
  }

  /** CPU time used by this process so far (all threads), or 0 where the JVM cannot tell. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }

  private TaskOptions options(String queue) {
    TaskOptions.Builder o = TaskOptions.builder().queue(queue);
    if (!settings.results()) {
      o.ignoreResult(true);
    }
    return o.build();
  }

  private Job job() {
    return new Job(-1, System.nanoTime(), payload);
  }

  private double drain(String queue, int expected) throws InterruptedException {
    return drain(queue, expected, settings.concurrency(), settings.pool());
  }

  private double drain(String queue, int expected, int concurrency, Pool pool)
      throws InterruptedException {
    CountDownLatch done = new CountDownLatch(expected);
    Worker worker = worker(queue, done, concurrency, pool);
    worker.start();
    boolean all = done.await(10, TimeUnit.MINUTES);
    worker.shutdown(Duration.ofSeconds(10));
    if (!all) {
      throw new IllegalStateException("drain of " + queue + " did not finish within 10 minutes");
    }
    // From the first task done to the last, so the worker's start-up is not counted (the Celery
    // harness times its drains the same way).
    return (expected - 1) / ((lastDone.get() - firstDone.get()) / 1e9);
  }

  private void latency(Client client, String queue, String processQueue, BenchResult r)
      throws InterruptedException, java.io.IOException {
    LatencyBench bench = new LatencyBench(backend, client, settings, run);
    if (settings.latencyModes().contains(LatencyBench.Mode.IN_PROCESS)) {
      LatencyBench.Figures f =
          bench.inProcess(
              queue,
              Worker.builder(backend)
                  .options(workerOptions(queue, settings.concurrency(), settings.pool())));
      r.latencyTasks = f.tasks();
      r.latencyP50Ms = f.p50Ms();
      r.latencyP95Ms = f.p95Ms();
      r.latencyP99Ms = f.p99Ms();
      r.latencyMaxMs = f.maxMs();
    }
    if (settings.latencyModes().contains(LatencyBench.Mode.IN_PROCESS)
        && backend instanceof dev.errand.postgres.PostgresBackend pg) {
      LatencyBench.Figures f =
          bench.inTransaction(
              queue,
              Worker.builder(backend)
                  .options(workerOptions(queue, settings.concurrency(), settings.pool())),
              pg.dataSource());
      r.txLatencyTasks = f.tasks();
      r.txLatencyP50Ms = f.p50Ms();
      r.txLatencyP95Ms = f.p95Ms();
      r.txLatencyP99Ms = f.p99Ms();
      r.txLatencyMaxMs = f.maxMs();
    }
    if (settings.latencyModes().contains(LatencyBench.Mode.PROCESS)) {
      LatencyBench.Figures f = bench.process(processQueue, settings.url());
      r.processLatencyTasks = f.tasks();
      r.processLatencyP50Ms = f.p50Ms();
      r.processLatencyP95Ms = f.p95Ms();
      r.processLatencyP99Ms = f.p99Ms();
      r.processLatencyMaxMs = f.maxMs();
      r.processWorkerRssMb = f.workerRssMb();
    }
  }

  private Worker worker(String queue, CountDownLatch done, int concurrency, Pool pool) {
    firstDone.set(0);
    TaskRegistry tasks =
        new TaskRegistry()
            .handleVoid(NOOP, (job, ctx) -> {})
            .handleVoid(SLEEP, (job, ctx) -> Thread.sleep(10));
    return Worker.builder(backend)
        .tasks(tasks)
        .options(workerOptions(queue, concurrency, pool))
        .listener(
            new WorkerListener() {
              @Override
              public void taskSucceeded(TaskContext ctx, Duration runtime) {
                long now = System.nanoTime();
                firstDone.compareAndSet(0, now);
                lastDone.accumulateAndGet(now, Math::max);
                done.countDown();
              }
            })
        .build();
  }

  private WorkerOptions workerOptions(String queue, int concurrency, Pool pool) {
    WorkerOptions.Builder options =
        WorkerOptions.builder()
            .name("bench-" + run + "-" + queue.substring(queue.lastIndexOf('-') + 1))
            .queues(queue)
            .concurrency(concurrency)
            .pool(pool)
            .resultExpires(RESULT_EXPIRES)
            .pollInterval(Duration.ofMillis(100));
    if (settings.prefetch() > 0) {
      options.prefetch(settings.prefetch());
    }
    return options.build();
  }

  /** This process's resident memory (VmRSS), in MiB; NaN where /proc is not available. */
  static double residentMegabytes() {
    return residentMegabytes("self");
  }

  /** A process's resident memory (VmRSS), in MiB; NaN where /proc is not available. */
  static double residentMegabytes(long pid) {
    return residentMegabytes(Long.toString(pid));
  }

  private static double residentMegabytes(String proc) {
    try {
      for (String line :
          java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", proc, "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: reported as unknown
    }
    return Double.NaN;
  }

  private static double rate(int n, long t0) {
    return n / ((System.nanoTime() - t0) / 1e9);
  }
}
