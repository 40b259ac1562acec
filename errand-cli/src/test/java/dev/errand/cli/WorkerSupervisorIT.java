package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The supervisor of {@code java -jar errand.jar worker}, a JVM ({@code WorkerSupervisor}), started
 * as the tests' own JVM starts {@code errand}: {@link SupervisorContract}, and the JVM options it
 * gives its worker process.
 */
class WorkerSupervisorIT extends SupervisorContract {

  @Override
  Process start(String out, List<String> args) throws IOException {
    return ErrandProcess.start(dir, out, args);
  }

  @Test
  void theWorkerProcessGetsTheWorkerOptionsOfTheLauncherAndThoseAfterThemNotTheSupervisors()
      throws Exception {
    // As ./errand starts a supervisor: its own small JVM, the worker's in a property, then the
    // user's ERRAND_JAVA_OPTS.
    Process sup =
        ErrandProcess.start(
            dir,
            "sup-jvm",
            List.of(
                "-Xmx64m",
                "-Derrand.worker.jvm-options=-Xmx200m -Derrand.it.worker=defaults",
                "-Derrand.it.user=opts"),
            List.of(
                "worker", "--app", SupervisorApp.class.getName(), "--broker", url, "-n", "sup-jvm"),
            java.util.Map.of());
    processes.add(sup);
    long child = childOf(sup);

    // Read from /proc: ProcessHandle.Info gives no arguments for a command line as long as a
    // test class path; and once it runs java (just started, it may be the JDK's spawn helper).
    Path cmdline = Path.of("/proc", String.valueOf(child), "cmdline");
    assumeTrue(Files.exists(cmdline), "reads /proc (Linux)");
    await().atMost(WAIT).until(() -> Files.readString(cmdline).contains(Main.class.getName()));
    List<String> args = List.of(Files.readString(cmdline).split("\0"));
    assertThat(args.subList(1, args.indexOf("-cp"))) // after the java command
        .containsExactly("-Xmx200m", "-Derrand.it.worker=defaults", "-Derrand.it.user=opts");
    assertThat(client.enqueue(SupervisorApp.QUICK, run("jvm")).get(WAIT))
        .isEqualTo(String.valueOf(child));
  }
}
