package dev.errand.worker;

import dev.errand.Client;
import dev.errand.memory.InMemoryBackend;
import dev.errand.test.FlowControlProof;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link FlowControlProof} on the in-memory backend, with three workers of 8 threads in this JVM
 * (the in-memory backend lives in one process): a rate of 100/s over 20 s, a per-key concurrency
 * limit, a paused queue, round-robin over three queues. An integration test: it takes 35 s.
 */
class MemoryFlowControlIT {

  private static final Logger log = LoggerFactory.getLogger(MemoryFlowControlIT.class);

  @Test
  void limitsPausesAndFairnessHoldAcrossThreeWorkers() {
    try (InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC())) {
      FlowControlProof proof = new FlowControlProof(Client.create(backend));
      proof.enqueue();
      List<Worker> workers = new ArrayList<>();
      try {
        for (int i = 1; i <= 3; i++) {
          workers.add(
              Worker.builder(backend)
                  .handle(FlowControlProof.TIMED, (t, ctx) -> FlowControlProof.run(t))
                  .options(
                      WorkerOptions.builder()
                          .name("proof-" + i)
                          .queues(FlowControlProof.QUEUES)
                          .concurrency(8)
                          .build())
                  .build()
                  .start());
        }
        FlowControlProof.Report report = proof.verify(Duration.ofSeconds(90));
        log.info("flow control on memory: {}", report);
      } finally {
        for (Worker w : workers) {
          w.shutdown(Duration.ofSeconds(5));
        }
      }
    }
  }
}
