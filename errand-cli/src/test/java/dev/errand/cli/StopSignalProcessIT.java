package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.Backends;
import dev.errand.scheduler.Beat;
import dev.errand.spi.Backend;
import dev.errand.spi.ScheduleStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code errand beat} and {@code errand dashboard} stopped with SIGTERM stop cleanly and exit 0, as
 * systemd expects of a service ({@link WorkerProcessIT} does the same for workers).
 */
class StopSignalProcessIT {

  @TempDir Path dir;

  @RegisterExtension
  final TestExecutionExceptionHandler printOutputs = ErrandProcess.printOutputsOnFailure(() -> dir);

  final List<Process> processes = new ArrayList<>();

  @AfterEach
  void close() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  Process errand(String out, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--broker", "sqlite:" + dir.resolve("it.db")));
    Process p = ErrandProcess.start(dir, out, all);
    processes.add(p);
    return p;
  }

  @Test
  void beatGivesUpItsLeadAndExitsZeroOnSigterm() throws Exception {
    try (Backend backend = Backends.open("sqlite:" + dir.resolve("it.db"))) {
      Process beat = errand("beat", "beat", "--name", "beat-s");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  backend
                      .schedules()
                      .leader(Beat.DEFAULT_GROUP)
                      .map(ScheduleStore.Lease::holder)
                      .filter("beat-s"::equals)
                      .isPresent());

      beat.destroy();

      assertThat(beat.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(beat.exitValue()).isZero();
      assertThat(backend.schedules().leader(Beat.DEFAULT_GROUP)).as("resigned").isEmpty();
    }
  }

  @Test
  void dashboardExitsZeroOnSigterm() throws Exception {
    Process dashboard = errand("dashboard", "dashboard", "--port", "0");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> Files.readString(dir.resolve("dashboard.out")).contains("access:"));

    dashboard.destroy();

    assertThat(dashboard.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(dashboard.exitValue()).isZero();
  }
}
