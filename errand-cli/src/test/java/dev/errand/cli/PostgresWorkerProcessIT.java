package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.postgres.testing.PostgresServerProcess;
import dev.errand.postgres.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The worker process tests on PostgreSQL ({@link TestPostgres}: a server of the run's own, or
 * {@code ERRAND_TEST_POSTGRES}), each in a schema of its own, plus PostgreSQL restarted mid-run on
 * a private server.
 */
class PostgresWorkerProcessIT extends WorkerProcessIT {

  String schema;

  @Override
  String newBackendUrl(Path dir) {
    schema = TestPostgres.newSchema();
    return TestPostgres.url(schema);
  }

  @Override
  void cleanUp() {
    TestPostgres.dropSchema(schema);
  }

  @Test
  void postgresRestartedMidRunLosesNothingAndTheWorkerCarriesOn() throws Exception {
    // A server of this test's own, which it restarts; commits are durable as in production.
    try (PostgresServerProcess server = TestPostgres.startPrivate("synchronous_commit=on")) {
      backend.close();
      url = server.url(schema);
      backend = Backends.open(url);
      client = Client.create(backend);
      worker("worker-r", "-c", "4", "--lease", "5s");
      List<AsyncResult<Integer>> sent = new ArrayList<>();
      for (int i = 1; i <= 60; i++) {
        sent.add(send(i, 100));
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.exists(log) && Files.readString(log).contains("done"));

      server.restart(); // every connection of the worker and of this test is cut

      for (AsyncResult<Integer> r : sent) {
        assertThat(r.get(Duration.ofSeconds(120))).isPositive();
      }
      // Still consuming, not just alive: work sent after the restart is done too.
      AsyncResult<Integer> after = send(99, 10);
      assertThat(after.get(Duration.ofSeconds(60))).isEqualTo(99);
      assertThat(after.state()).isEqualTo(TaskState.SUCCESS);
      for (Process p : processes) {
        assertThat(p.isAlive()).isTrue();
      }
      backend.close();
      backend = Backends.open(TestPostgres.url(schema)); // closed by the base class
    }
  }
}
