package dev.errand.cli;

import dev.errand.Client;
import dev.errand.test.FlowControlProof;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link FlowControlProof} with three real {@code errand worker} processes of 8 threads on one
 * backend: a rate of 100/s measured over 20 s, a per-key concurrency limit never exceeded, a paused
 * queue untouched, round-robin over three queues. Subclassed once per backend; about 35 s each.
 */
abstract class FlowControlProcessIT extends ProcessTestBase {

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
