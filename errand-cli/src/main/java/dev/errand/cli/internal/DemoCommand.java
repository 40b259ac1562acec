package dev.errand.cli.internal;

import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.cli.internal.demo.DemoApp;
import dev.errand.cli.internal.demo.DemoDriver;
import dev.errand.spi.Backend;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code errand demo}: a worker and a realistic mix of tasks on a fresh store, shown live. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run a worker with a sample app on a fresh store and feed it a realistic mix:",
      "flaky emails that retry with backoff, a CSV export with progress, a report that hits",
      "its soft time limit, a priority burst and a poison message. Ctrl-C stops it cleanly."
    })
final class DemoCommand implements Callable<Integer> {

  /** The demo's own store, recreated on each run, in the working directory. */
  static final String DEFAULT_URL = "sqlite:errand-demo.db";

  @Option(
      names = {"-b", "--broker"},
      paramLabel = "URL",
      description = "Backend URL (default: a fresh " + DEFAULT_URL + ").")
  String url;

  @Option(
      names = {"-c", "--concurrency"},
      paramLabel = "N",
      description = "Worker concurrency (default: 4).")
  int concurrency = 4;

  @Option(
      names = "--exports",
      paramLabel = "DIR",
      description = "Where the CSV export is written (default: ./errand-demo-exports).")
  Path exports = Path.of("errand-demo-exports");

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Give up after this long (default: 2m).")
  Duration timeout = Duration.ofMinutes(2);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    WorkerLimits.current().concurrency("--concurrency", concurrency, WorkerOptions.DEFAULT_POOL);
    Checks.positive("--timeout", timeout);
    if (System.getenv("ERRAND_LOG_LEVEL") == null) {
      // The live view reports retries and failures itself; the worker's log would scroll it away.
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.errand"))
          .setLevel(ch.qos.logback.classic.Level.OFF);
    }
    String broker = url != null ? url : DEFAULT_URL;
    if (url == null) {
      freshSqliteFile(Path.of("errand-demo.db"));
    }
    Backend backend = Backends.open(broker);
    TaskRegistry tasks = new TaskRegistry();
    new DemoApp(exports).register(tasks);
    Worker worker =
        Worker.builder(backend)
            .tasks(tasks)
            .options(
                WorkerOptions.builder()
                    .name("demo-worker")
                    .queues("email", "default")
                    .concurrency(concurrency)
                    .prefetch(2)
                    .pollInterval(Duration.ofMillis(200))
                    .shutdownTimeout(Duration.ofSeconds(5))
                    .build())
            .build();
    DemoDriver driver =
        new DemoDriver(
            backend,
            Client.create(backend),
            worker,
            spec.commandLine().getOut(),
            spec.commandLine().getColorScheme().ansi(),
            System.console() != null && !"dumb".equals(System.getenv("TERM")),
            broker);
    Thread hook = new Thread(driver::interrupt, "errand-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return driver.run(timeout) ? 0 : ErrandCommand.FAILURE;
    } finally {
      worker.shutdown(Duration.ofSeconds(5));
      backend.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the JVM is already stopping, and the hook has done its part.
      }
    }
  }

  private static void freshSqliteFile(Path db) throws IOException {
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Files.deleteIfExists(Path.of(db + suffix));
    }
  }
}
