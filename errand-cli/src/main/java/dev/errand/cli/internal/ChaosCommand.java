package dev.errand.cli.internal;

import dev.errand.cli.internal.bench.Chaos;
import dev.errand.cli.internal.bench.RedisScratch;
import dev.errand.spi.Backend;
import dev.errand.spi.NewMessage;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code errand chaos}: the reliability experiments, each a scenario run against real worker
 * processes, reported as sent / executed / completed / duplicates / lost / stuck.
 */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = {
      "Run the reliability experiments on real worker processes and print what happened to every",
      "task sent: crash-storm (a worker process SIGKILLed every 3 s), backend-restart (Redis",
      "killed and restarted mid-run), garbage (hostile messages and wrong-typed keys mid-run),",
      "clock-skew (workers 60 s ahead and behind, with libfaketime), full-disk (SQLite on a small",
      "tmpfs filled mid-run; needs root). Redis runs use a key prefix of their own, deleted after."
    })
final class ChaosCommand implements Callable<Integer> {

  static final List<String> SCENARIOS =
      List.of("crash-storm", "backend-restart", "garbage", "clock-skew", "full-disk");

  @Option(
      names = "--scenario",
      split = ",",
      paramLabel = "NAME",
      description = "Scenarios to run (default: all): ${COMPLETION-CANDIDATES}.",
      completionCandidates = Scenarios.class)
  List<String> scenarios = SCENARIOS;

  @Option(
      names = "--backends",
      split = ",",
      paramLabel = "sqlite|redis",
      description = "Backends of the crash-storm, garbage and clock-skew runs (default: both).")
  List<String> backends = List.of("sqlite", "redis");

  @Option(
      names = "--redis",
      paramLabel = "URL",
      description = "The Redis of the redis runs (default: redis://127.0.0.1:6379/0).")
  String redis = "redis://127.0.0.1:6379/0";

  @Option(
      names = {"-n", "--tasks"},
      paramLabel = "N",
      description = "Tasks per scenario (default: 600).")
  int tasks = 600;

  @Option(names = "--workers", paramLabel = "N", description = "Worker processes (default: 3).")
  int workers = 3;

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N",
      description = "Tasks each worker runs at once (default: 4).")
  int concurrency = 4;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  static final class Scenarios extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    Scenarios() {
      super(SCENARIOS);
    }
  }

  @Override
  public Integer call() throws Exception {
    for (String s : scenarios) {
      if (!SCENARIOS.contains(s)) {
        throw new UsageException("--scenario " + s + " is not one of " + SCENARIOS);
      }
    }
    if (tasks < 1 || workers < 1 || concurrency < 1) {
      throw new UsageException("--tasks, --workers and --concurrency must be > 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dir = Files.createTempDirectory("errand-chaos-");
    Chaos chaos = new Chaos(new Chaos.Settings(tasks, workers, concurrency, dir), out);
    chaos.progress("errand chaos: logs and worker output in " + dir);
    List<Chaos.Report> reports = new ArrayList<>();
    for (String scenario : scenarios) {
      switch (scenario) {
        case "backend-restart" -> reports.add(chaos.backendRestart());
        case "full-disk" -> reports.add(chaos.fullDisk());
        default -> {
          for (String backend : backends) {
            reports.add(onBackend(chaos, scenario, backend, dir));
          }
        }
      }
      chaos.progress("done: " + reports.get(reports.size() - 1));
    }
    out.println();
    Chaos.print(reports, out);
    return 0;
  }

  private Chaos.Report onBackend(Chaos chaos, String scenario, String backend, Path dir)
      throws Exception {
    if (backend.equals("sqlite")) {
      String url = "sqlite:" + dir.resolve(scenario + ".db");
      return run(chaos, scenario, url, "sqlite", b -> injectRaw(b));
    }
    if (!backend.equals("redis")) {
      throw new UsageException("--backends " + backend + " is not sqlite or redis");
    }
    RedisScratch scratch;
    try {
      scratch = RedisScratch.open(redis, "chaos");
      scratch.commands().ping();
    } catch (RuntimeException e) {
      return new Chaos.Report(
          scenario, "redis", 0, 0, 0, 0, 0, 0, "not run: " + redis + " unreachable: " + e);
    }
    try {
      return run(
          chaos,
          scenario,
          scratch.url(),
          "redis",
          b -> {
            injectRaw(b);
            wrongTypes(scratch);
          });
    } finally {
      scratch.deleteKeys();
      scratch.close();
    }
  }

  private Chaos.Report run(
      Chaos chaos, String scenario, String url, String name, Consumer<Backend> garbage)
      throws Exception {
    return switch (scenario) {
      case "crash-storm" -> chaos.crashStorm(url, name);
      case "garbage" -> chaos.garbage(url, name, garbage);
      default -> chaos.clockSkew(url, name);
    };
  }

  /** Hostile messages sent past the client: each must end as a dead letter, and nothing else. */
  static void injectRaw(Backend b) {
    String ok = "\"v\":1,\"task\":\"chaos.work\",\"queue\":\"default\"";
    List<String> bodies =
        List.of(
            "{not json",
            "",
            "[1,2,3]",
            "{\"v\":1,\"id\":\"g-deep\","
                + ok.substring(6)
                + ",\"kwargs\":{\"d\":"
                + "[".repeat(998)
                + "]".repeat(998)
                + "}}",
            "{\"id\":\"g-opts\"," + ok + ",\"options\":{\"retry\":{\"maxRetries\":-7}}}",
            "{\"id\":\"g-prio\"," + ok + ",\"priority\":42}",
            "{\"id\":\"g-unknown\",\"v\":1,\"task\":\"no.such.task\",\"queue\":\"default\"}",
            "{\"id\":\"g-args\"," + ok + ",\"args\":[1,2,3,4]}",
            "{\"id\":\"g-big\"," + ok + ",\"args\":[\"" + "x".repeat(3 << 20) + "\"]}",
            "{\"id\":\"g-version\",\"v\":99,\"task\":\"chaos.work\",\"queue\":\"default\"}");
    List<NewMessage> messages = new ArrayList<>();
    for (int i = 0; i < bodies.size(); i++) {
      messages.add(
          new NewMessage(
              "garbage-" + i,
              "default",
              5,
              bodies.get(i).getBytes(StandardCharsets.UTF_8),
              null,
              null,
              null));
    }
    b.broker().enqueue(messages);
  }

  /** Values of the wrong type under every key of a consumed queue, and ids with no body. */
  static void wrongTypes(RedisScratch scratch) {
    var redis = scratch.commands();
    String q = scratch.prefix() + ":q:{chaos-garbage}:";
    redis.set(q + "ready", "not a sorted set");
    redis.rpush(q + "leased", "not", "a", "sorted", "set");
    redis.hset(q + "delayed", "not", "a sorted set");
    redis.set(q + "body", "not a hash");
    redis.zadd(q + "meta", 1, "not a hash");
    String d = scratch.prefix() + ":q:{default}:";
    redis.zadd(d + "ready", 0, "ghost-without-body");
    redis.hset(d + "meta", "ghost-bad-meta", "5,1,1e+20,,1");
    redis.hset(d + "body", "ghost-bad-meta", "{\"v\":1}");
    redis.zadd(d + "ready", 1, "ghost-bad-meta");
  }
}
