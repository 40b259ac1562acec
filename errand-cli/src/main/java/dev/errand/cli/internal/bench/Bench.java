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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark harness behind {@code errand bench}: measures the real code path (client, broker,
 * worker, result store) of one backend. Each run uses its own queue names and purges them after.
 */
public final class Bench {

  /** What a benchmark task carries: when it was sent (this JVM's nano time) and a payload. */
  public record Job(long sentNanos, String payload) {}

  static final TaskDef<Job, Void> NOOP = TaskDef.of("bench.noop", Job.class);
  static final TaskDef<Job, Void> SLEEP = TaskDef.of("bench.sleep10ms", Job.class);
  static final TaskDef<Job, Void> LATENCY = TaskDef.of("bench.latency", Job.class);

  static final int BATCH = 500;
  static final int LATENCY_RATE_PER_SECOND = 100;
  static final Duration LATENCY_DURATION = Duration.ofSeconds(5);

  /** Settings of one run. */
  public record Settings(
      int tasks, int concurrency, Pool pool, int payloadBytes, boolean results) {}

  private final Backend backend;
  private final Settings settings;
  private final String run = Long.toHexString(System.nanoTime());
  private final String payload;
  private final long[] latencies =
      new long[LATENCY_RATE_PER_SECOND * (int) LATENCY_DURATION.toSeconds()];
  private final AtomicLong latencyCount = new AtomicLong();

  public Bench(Backend backend, Settings settings) {
    this.backend = backend;
    this.settings = settings;
    this.payload = "x".repeat(settings.payloadBytes());
  }

  /** Runs every measurement in turn. */
  public BenchResult run() throws InterruptedException {
    Client client = Client.builder(backend).sentEvents(false).build();
    BenchResult r = new BenchResult();
    String single = "bench-" + run + "-single";
    String drain = "bench-" + run + "-drain";
    String io = "bench-" + run + "-io";
    String lat = "bench-" + run + "-latency";
    String warm = "bench-" + run + "-warmup";
    try {
      // Warm the JIT and the backend's connections before anything is timed.
      for (int i = 0; i < 2_000; i++) {
        client.enqueue(NOOP, job(), options(warm));
      }
      drain(warm, 2_000);
      int singles = Math.min(settings.tasks(), 2_000);
      long t0 = System.nanoTime();
      for (int i = 0; i < singles; i++) {
        client.enqueue(NOOP, job(), options(single));
      }
      r.enqueueSingle = rate(singles, t0);
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

      r.drainNoop = drain(drain, settings.tasks());

      int ioTasks = Math.min(settings.tasks(), 2_000);
      for (int sent = 0; sent < ioTasks; sent += BATCH) {
        jobs.clear();
        for (int i = 0; i < Math.min(BATCH, ioTasks - sent); i++) {
          jobs.add(job());
        }
        client.enqueueAll(SLEEP, jobs, options(io));
      }
      r.ioTasks = ioTasks;
      r.drainSleep = drain(io, ioTasks);

      latency(client, lat, r);
    } finally {
      for (String q : List.of(warm, single, drain, io, lat)) {
        backend.broker().purge(q);
      }
    }
    return r;
  }

  private TaskOptions options(String queue) {
    TaskOptions.Builder o = TaskOptions.builder().queue(queue);
    if (!settings.results()) {
      o.ignoreResult(true);
    }
    return o.build();
  }

  private Job job() {
    return new Job(System.nanoTime(), payload);
  }

  private double drain(String queue, int expected) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(expected);
    Worker worker = worker(queue, done, settings.concurrency());
    long t0 = System.nanoTime();
    worker.start();
    boolean all = done.await(10, TimeUnit.MINUTES);
    double rate = rate(expected - (int) done.getCount(), t0);
    worker.shutdown(Duration.ofSeconds(10));
    if (!all) {
      throw new IllegalStateException("drain of " + queue + " did not finish within 10 minutes");
    }
    return rate;
  }

  private void latency(Client client, String queue, BenchResult r) throws InterruptedException {
    int total = latencies.length;
    CountDownLatch done = new CountDownLatch(total);
    Worker worker = worker(queue, done, settings.concurrency());
    worker.start();
    long interval = 1_000_000_000L / LATENCY_RATE_PER_SECOND;
    long next = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      client.enqueue(LATENCY, job(), options(queue));
      next += interval;
    }
    done.await(2, TimeUnit.MINUTES);
    worker.shutdown(Duration.ofSeconds(10));
    long[] sorted = Arrays.copyOf(latencies, (int) Math.min(total, latencyCount.get()));
    Arrays.sort(sorted);
    r.latencyTasks = sorted.length;
    r.latencyP50Ms = percentile(sorted, 0.50);
    r.latencyP95Ms = percentile(sorted, 0.95);
    r.latencyP99Ms = percentile(sorted, 0.99);
  }

  private Worker worker(String queue, CountDownLatch done, int concurrency) {
    TaskRegistry tasks =
        new TaskRegistry()
            .handleVoid(NOOP, (job, ctx) -> {})
            .handleVoid(SLEEP, (job, ctx) -> Thread.sleep(10))
            .handleVoid(
                LATENCY,
                (job, ctx) -> {
                  long i = latencyCount.getAndIncrement();
                  if (i < latencies.length) {
                    latencies[(int) i] = System.nanoTime() - job.sentNanos();
                  }
                });
    return Worker.builder(backend)
        .tasks(tasks)
        .options(
            WorkerOptions.builder()
                .name("bench-" + run + "-" + queue.substring(queue.lastIndexOf('-') + 1))
                .queues(queue)
                .concurrency(concurrency)
                .pool(settings.pool())
                .pollInterval(Duration.ofMillis(100))
                .build())
        .listener(
            new WorkerListener() {
              @Override
              public void taskSucceeded(TaskContext ctx, Duration runtime) {
                done.countDown();
              }
            })
        .build();
  }

  private static double rate(int n, long t0) {
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  private static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }
}
