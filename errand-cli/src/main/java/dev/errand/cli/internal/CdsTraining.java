package dev.errand.cli.internal;

import dev.errand.cli.Main;
import dev.errand.cli.internal.bench.BenchApp;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The training run behind the launcher's class-data archive ({@code ./errand}, see docs/cli.md):
 * run with {@code -XX:DumpLoadedClassList}, it loads the classes a command needs to start, so that
 * the archive dumped from that list holds them already parsed and verified. It does what the
 * commands people wait for do: the usage help, {@code call}, {@code result}, {@code inspect}, and a
 * worker on SQLite (the default backend) that runs a task and stops on SIGTERM, in this process
 * ({@code --no-supervisor}). Redis's classes are left out on purpose: the whole archive is mapped
 * into every process that uses it, so classes one backend does not need would cost its workers
 * memory (about 20 MiB for Lettuce and Netty).
 *
 * <p>Not a command: the launcher runs {@code java -cp errand.jar
 * dev.errand.cli.internal.CdsTraining DIR} (so a rename must change {@code ./errand} too), with DIR
 * a directory for its SQLite file, which it deletes. Exits 0 when every step worked; LauncherIT
 * checks that it does.
 */
public final class CdsTraining {

  /** The longest a training run may take (it takes about a second): it must not hang a launcher. */
  static final long TIMEOUT_SECONDS = 60;

  private CdsTraining() {}

  /** Runs the training in directory {@code args[0]}. */
  public static void main(String[] args) throws Exception {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
                Runtime.getRuntime().halt(1);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "errand-training-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    Path dir = Files.createDirectories(Path.of(args[0]));
    Path db = dir.resolve("training.db");
    int code;
    try {
      code = train("sqlite:" + db);
    } finally {
      for (String suffix : new String[] {"", "-wal", "-shm"}) {
        Files.deleteIfExists(dir.resolve("training.db" + suffix));
      }
    }
    System.exit(code);
  }

  private static int train(String url) throws Exception {
    Class<?> main = Main.class; // loaded as every command loads it: into the archive
    run("--help");
    run("worker", "--help");
    String id =
        run(
                "call",
                "bench.noop",
                "--kwargs",
                "{\"sentNanos\":0,\"payload\":\"x\"}",
                "--broker",
                url)
            .trim();
    int[] workerCode = {-1};
    Thread worker =
        new Thread(
            () ->
                workerCode[0] =
                    ErrandCommand.run(
                        sink(),
                        sink(),
                        "worker",
                        "--no-supervisor",
                        "--broker",
                        url,
                        "--app",
                        BenchApp.class.getName(),
                        "--concurrency",
                        "2"),
            "errand-training-worker");
    worker.start();
    String result = run("result", id, "--wait", "60s", "--broker", url);
    run("inspect", "queues", "--broker", url);
    run("inspect", "workers", "--broker", url);
    run("inspect", "queues", "--json", "--broker", url);
    // Stopped as a worker is: SIGTERM, handled by GracefulStop.
    if (!GracefulStop.raise("TERM")) {
      return 1;
    }
    worker.join(TimeUnit.SECONDS.toMillis(60));
    return result.contains("SUCCESS") && workerCode[0] == 0 ? 0 : 1;
  }

  /** Runs a command; returns its standard output. */
  private static String run(String... args) {
    StringWriter out = new StringWriter();
    ErrandCommand.run(new PrintWriter(out), sink(), args);
    return out.toString();
  }

  private static PrintWriter sink() {
    return new PrintWriter(Writer.nullWriter());
  }
}
