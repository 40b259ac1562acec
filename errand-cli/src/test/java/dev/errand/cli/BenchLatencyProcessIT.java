package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Backends;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code errand bench}'s latency step with the worker in a process of its own. */
class BenchLatencyProcessIT {

  @TempDir Path dir;

  @RegisterExtension
  final org.junit.jupiter.api.extension.TestExecutionExceptionHandler printOutputs =
      ErrandProcess.printOutputsOnFailure(() -> dir);

  @Test
  void timesEveryProbeAcrossProcessesAndLeavesNothingBehind() throws Exception {
    String url = "sqlite:" + dir.resolve("bench.db");
    Process bench =
        ErrandProcess.start(
            dir,
            "bench",
            List.of(
                "bench",
                "--broker",
                url,
                "--latency-only",
                "--latency-mode",
                "process",
                "--latency-tasks",
                "40",
                "--latency-rate",
                "50",
                "--warmup",
                "200",
                "--concurrency",
                "2",
                "--latency-samples",
                dir.resolve("samples.txt").toString(),
                "--json"));
    assertThat(bench.waitFor(3, TimeUnit.MINUTES)).as("bench finished").isTrue();
    String out = Files.readString(dir.resolve("bench.out"));
    assertThat(bench.exitValue()).as(out).isZero();

    JsonNode figures = Wire.mapper().readTree(out.substring(out.indexOf('{'))).get("figures");
    assertThat(figures.get("processLatencyTasks").asInt()).isEqualTo(40);
    assertThat(figures.get("latencyTasks").asInt()).as("in-process not asked for").isZero();
    double p50 = figures.get("processLatencyP50Ms").asDouble();
    assertThat(p50).isPositive();
    assertThat(figures.get("processLatencyP99Ms").asDouble()).isGreaterThanOrEqualTo(p50);
    // Read from /proc for the worker process before it was stopped: a running JVM's size (NaN, or a
    // few MiB for a process that had already exited, would fail).
    assertThat(figures.get("processWorkerRssMb").asDouble()).isBetween(10.0, 2_048.0);
    assertThat(Files.readAllLines(dir.resolve("samples.txt")))
        .hasSize(40)
        .allSatisfy(line -> assertThat(line).matches("process \\d+ \\d+"));

    try (Backend b = Backends.open(url)) {
      for (String q : b.broker().queues()) {
        assertThat(b.broker().stats(q).ready() + b.broker().stats(q).leased())
            .as("queue %s purged", q)
            .isZero();
      }
      assertThat(b.workers().live()).as("the worker process stopped cleanly").isEmpty();
    }
  }
}
