package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Backends;
import dev.errand.cli.internal.bench.RedisScratch;
import dev.errand.cli.internal.bench.WorkflowBench;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand bench-workflows}: times a large chord and a long chain. */
@Command(
    name = "bench-workflows",
    mixinStandardHelpOptions = true,
    description = {
      "Time workflows: a chord of --members no-op tasks whose callback gets every",
      "result, and a chain of --steps tasks each adding one to the previous result;",
      "from the moment sending starts to the moment the callback (chord) or the last",
      "step (chain) has run, with one worker in this process. The same workloads as",
      "benchmarks/celery/celery_workflows.py, for benchmarks/vs-celery.sh.",
      "Redis: runs under a key prefix of its own and deletes its keys at the end.",
      "SQLite: a queue of its own in the given file."
    })
final class WorkflowBenchCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Option(names = "--members", paramLabel = "N", description = "Chord members (default: 10000).")
  int members = 10_000;

  @Option(names = "--steps", paramLabel = "N", description = "Chain steps (default: 1000).")
  int steps = 1_000;

  @Option(names = "--runs", paramLabel = "N", description = "Timed runs of each (default: 3).")
  int runs = 3;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Untimed runs of each first, while the JIT compiles the hot path (default: 3).")
  int warmup = 3;

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N",
      description = "Worker slots (default: 8).")
  int concurrency = 8;

  @Option(
      names = "--prefetch",
      paramLabel = "N",
      description = "Messages the worker holds beyond its slots (default: the worker's).")
  int prefetch;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "The longest one workflow may take (default: 10m).")
  Duration timeout = Duration.ofMinutes(10);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (members <= 0) throw new UsageException("--members must be > 0 but was " + members);
    if (steps <= 0) throw new UsageException("--steps must be > 0 but was " + steps);
    if (runs <= 0) throw new UsageException("--runs must be > 0 but was " + runs);
    if (warmup < 0) throw new UsageException("--warmup must be >= 0 but was " + warmup);
    if (concurrency <= 0) {
      throw new UsageException("--concurrency must be > 0 but was " + concurrency);
    }
    if (prefetch < 0) throw new UsageException("--prefetch must be >= 0 but was " + prefetch);
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.errand"))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    String url = backend.url();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter progress = output.json ? spec.commandLine().getErr() : out;
    RedisScratch redis = RedisScratch.isRedis(url) ? RedisScratch.open(url, "bench-wf") : null;
    String queue = "bench-wf-" + UUID.randomUUID().toString().substring(0, 8);
    WorkflowBench.Result r;
    String where;
    try (Backend b = Backends.open(redis == null ? url : redis.url())) {
      where = b.describe();
      progress.printf(
          "errand bench-workflows on %s: a chord of %,d members and a chain of %,d steps, %d"
              + " timed runs each after %d untimed, worker -c %d, Java %d, %d CPUs%n",
          where,
          members,
          steps,
          runs,
          warmup,
          concurrency,
          Runtime.version().feature(),
          Runtime.getRuntime().availableProcessors());
      progress.flush();
      r =
          new WorkflowBench(
                  b,
                  new WorkflowBench.Settings(
                      members,
                      steps,
                      warmup,
                      runs,
                      concurrency,
                      prefetch,
                      timeout,
                      redis == null ? null : redis::serverCpuSeconds),
                  queue)
              .run();
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
      o.put("members", members);
      o.put("steps", steps);
      o.put("concurrency", concurrency);
      o.put("warmup", warmup);
      o.set("chord", Wire.mapper().valueToTree(r.chord()));
      o.set("chain", Wire.mapper().valueToTree(r.chain()));
      OutputOptions.printJson(out, o);
      return 0;
    }
    print(out, "chord of " + members, r.chord());
    print(out, "chain of " + steps, r.chain());
    return 0;
  }

  private static void print(PrintWriter out, String what, List<WorkflowBench.Run> runs) {
    for (int i = 0; i < runs.size(); i++) {
      WorkflowBench.Run run = runs.get(i);
      out.printf(
          "%-18s run %d: %7.3f s to its end (sending %.3f s; CPU: this JVM %.2f s%s)%s%n",
          what,
          i + 1,
          run.seconds(),
          run.sendSeconds(),
          run.cpuSeconds(),
          Double.isNaN(run.serverCpuSeconds())
              ? ""
              : String.format(", Redis %.2f s", run.serverCpuSeconds()),
          run.ok() ? "" : "  WRONG RESULT");
    }
    out.flush();
  }
}
