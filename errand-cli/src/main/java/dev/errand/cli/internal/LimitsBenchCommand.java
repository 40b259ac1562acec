package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.cli.internal.bench.Bench;
import dev.errand.cli.internal.bench.RedisScratch;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code errand bench-limits}: what waiting on a rate limit costs the backend. Enqueues tasks under
 * one rate limit and lets workers in this process drain them at that rate, once with a few waiting
 * and once with many: on Redis, the commands the server processes per second should not grow with
 * the tasks waiting (no polling storm).
 */
@Command(
    name = "bench-limits",
    mixinStandardHelpOptions = true,
    description = {
      "Measure what tasks waiting on a rate limit cost: --workers workers in this process drain",
      "no-op tasks limited to --rate, first with --few waiting, then with --waiting; over",
      "--seconds each it prints the tasks started per second and, on Redis, the commands the",
      "server processed per second (use a Redis of its own: it counts every client's).",
      "Redis: runs under a key prefix of its own and deletes its keys at the end."
    })
final class LimitsBenchCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Option(names = "--waiting", paramLabel = "N", description = "Tasks waiting (default: 10000).")
  int waiting = 10_000;

  @Option(names = "--few", paramLabel = "N", description = "Tasks waiting at first (default: 200).")
  int few = 200;

  @Option(names = "--rate", paramLabel = "RATE", description = "Their rate limit (default: 10/s).")
  String rate = "10/s";

  @Option(names = "--workers", paramLabel = "N", description = "Workers (default: 3).")
  int workers = 3;

  @Option(names = "--seconds", paramLabel = "N", description = "Measured per run (default: 10).")
  int seconds = 10;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** One run: tasks waiting, and what was measured. */
  record Run(
      int waiting,
      double startsPerSecond,
      double commandsPerSecond,
      double scriptCallsPerSecond,
      double redisCpuPerSecond) {}

  @Override
  public Integer call() throws InterruptedException {
    Checks.positive("--waiting", waiting);
    Checks.positive("--few", few);
    Checks.positive("--workers", workers);
    Checks.positive("--seconds", seconds);
    TaskOptions limited;
    try {
      limited = TaskOptions.builder().rateLimit(rate).build();
    } catch (IllegalArgumentException e) {
      throw new UsageException("--rate: " + e.getMessage());
    }
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.errand"))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    String url = backend.url();
    PrintWriter out = spec.commandLine().getOut();
    RedisScratch redis = RedisScratch.isRedis(url) ? RedisScratch.open(url, "bench-limits") : null;
    List<Run> runs = new ArrayList<>();
    String where;
    try (Backend b = Backends.open(redis == null ? url : redis.url())) {
      where = b.describe();
      for (int n : List.of(few, waiting)) {
        runs.add(run(b, redis, n, limited));
        Run r = runs.get(runs.size() - 1);
        if (!output.json) {
          out.printf(
              "%,7d waiting on %s: %.1f starts/s%s%n",
              r.waiting(),
              rate,
              r.startsPerSecond(),
              Double.isNaN(r.commandsPerSecond())
                  ? ""
                  : String.format(
                      java.util.Locale.ROOT,
                      "; Redis: %.0f script calls/s, %.0f commands/s (inside scripts included),"
                          + " %.1f%% of a core",
                      r.scriptCallsPerSecond(),
                      r.commandsPerSecond(),
                      100 * r.redisCpuPerSecond()));
          out.flush();
        }
      }
    } finally {
      if (redis != null) {
        try {
          redis.deleteKeys();
        } finally {
          redis.close();
        }
      }
    }
    if (output.json) {
      ObjectNode o = Wire.mapper().createObjectNode();
      o.put("backend", where);
      o.put("rate", rate);
      o.put("workers", workers);
      o.put("seconds", seconds);
      for (Run r : runs) {
        ObjectNode j = o.withArray("runs").addObject();
        j.put("waiting", r.waiting());
        j.put("startsPerSecond", r.startsPerSecond());
        if (!Double.isNaN(r.commandsPerSecond())) {
          j.put("redisCommandsPerSecond", r.commandsPerSecond());
          j.put("redisScriptCallsPerSecond", r.scriptCallsPerSecond());
          j.put("redisCpuPerSecond", r.redisCpuPerSecond());
        }
      }
      OutputOptions.printJson(out, o);
    }
    return 0;
  }

  private Run run(Backend b, RedisScratch redis, int n, TaskOptions limited)
      throws InterruptedException {
    String queue = "bench-limits-" + UUID.randomUUID().toString().substring(0, 8);
    Client client = Client.create(b);
    List<Bench.Job> jobs = Collections.nCopies(n, new Bench.Job(0, 0, ""));
    client.enqueueAll(Bench.NOOP, jobs, limited.toBuilder().queue(queue).build());
    AtomicLong started = new AtomicLong();
    List<Worker> ws = new ArrayList<>();
    try {
      for (int i = 0; i < workers; i++) {
        ws.add(
            Worker.builder(b)
                .tasks(
                    new TaskRegistry()
                        .handleVoid(Bench.NOOP, (j, ctx) -> started.incrementAndGet()))
                .options(WorkerOptions.builder().queues(queue).concurrency(4).build())
                .build()
                .start());
      }
      Thread.sleep(2_000); // the workers' start and first claims are not measured
      long startedBefore = started.get();
      long commandsBefore = redis == null ? -1 : redis.commandsProcessed();
      long scriptsBefore = redis == null ? -1 : redis.scriptCalls();
      double cpuBefore = redis == null ? Double.NaN : redis.serverCpuSeconds();
      long t0 = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      double elapsed = (System.nanoTime() - t0) / 1e9;
      double starts = (started.get() - startedBefore) / elapsed;
      if (redis == null) {
        return new Run(n, starts, Double.NaN, Double.NaN, Double.NaN);
      }
      return new Run(
          n,
          starts,
          (redis.commandsProcessed() - commandsBefore) / elapsed,
          (redis.scriptCalls() - scriptsBefore) / elapsed,
          (redis.serverCpuSeconds() - cpuBefore) / elapsed);
    } finally {
      for (Worker w : ws) {
        w.shutdown(Duration.ofSeconds(5));
      }
      b.broker().purge(queue);
    }
  }
}
