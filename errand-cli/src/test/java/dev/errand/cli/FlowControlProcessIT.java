package dev.errand.cli;

import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.spi.Backend;
import dev.errand.test.FlowControlProof;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FlowControlProof} with three real {@code errand worker} processes of 8 threads on one
 * backend: a rate of 100/s measured over 20 s, a per-key concurrency limit never exceeded, a paused
 * queue untouched, round-robin over three queues. Subclassed once per backend; about 35 s each.
 */
abstract class FlowControlProcessIT {

  @TempDir Path dir;

  @RegisterExtension
  final TestExecutionExceptionHandler printOutputs = ErrandProcess.printOutputsOnFailure(() -> dir);

  String url;
  Backend backend;
  final List<Process> processes = new ArrayList<>();

  /** The URL of a new, empty backend for one test. */
  abstract String newBackendUrl(Path dir);

  /** Deletes what the test left in the backend; after the backend is closed. */
  void cleanUp() {}

  @BeforeEach
  void open() {
    url = newBackendUrl(dir);
    backend = Backends.open(url);
  }

  @AfterEach
  void close() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    backend.close();
    cleanUp();
  }

  @Test
  void limitsPausesAndFairnessHoldAcrossThreeWorkerProcesses() throws IOException {
    FlowControlProof proof = new FlowControlProof(Client.create(backend));
    proof.enqueue();
    for (int i = 1; i <= 3; i++) {
      String name = "proof-" + i;
      processes.add(
          ErrandProcess.start(
              dir,
              name,
              List.of(
                  "worker",
                  "--app",
                  ItApp.class.getName(),
                  "--broker",
                  url,
                  "--name",
                  name,
                  "-Q",
                  String.join(",", FlowControlProof.QUEUES),
                  "-c",
                  "8")));
    }
    FlowControlProof.Report report = proof.verify(Duration.ofSeconds(120));
    System.out.println("flow control on " + backend.describe() + ": " + report);
  }
}
