package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The supervisor of {@code ./errand worker}: the launcher's shell ({@code supervise} in the
 * script), run from a {@link LauncherCopy} with the test app on {@code --classpath}: {@link
 * SupervisorContract}, and what only a shell can get wrong.
 */
class LauncherSupervisorIT extends SupervisorContract {

  private LauncherCopy copy;

  @Override
  Process start(String out, List<String> args) throws IOException {
    if (copy == null) {
      copy = LauncherCopy.in(dir);
    }
    List<String> withApp = new ArrayList<>(args);
    withApp.addAll(List.of("--classpath", Path.of("target", "test-classes").toAbsolutePath() + ""));
    // No class-data archive: LauncherIT tests it, and writing one per test would cost seconds.
    return copy.builder(Map.of("ERRAND_CDS", "off"), withApp)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve(out + ".out").toFile())
        .start();
  }

  @Test
  void aSecondSigtermKillsTheWorkerProcessAtOnce() throws Exception {
    Process sup =
        start(
            "sup-twice",
            List.of(
                "worker",
                "--app",
                SupervisorApp.class.getName(),
                "--broker",
                url,
                "-n",
                "sup-twice",
                "--shutdown-timeout",
                "10m"));
    processes.add(sup);
    long child = childOf(sup);
    AsyncResult<String> slow = client.enqueue(SupervisorApp.SLOW, run("slow"));
    await()
        .atMost(WAIT)
        .until(() -> Files.exists(log) && Files.readString(log).contains("start " + slow.id()));

    sup.destroy(); // SIGTERM: the worker process waits for its task, up to 10 minutes
    Thread.sleep(1_000);
    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).isTrue();
    sup.destroy(); // a second one: at once

    assertThat(sup.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(sup.exitValue()).isEqualTo(143);
    await() // killed; gone once reaped
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
  }
}
