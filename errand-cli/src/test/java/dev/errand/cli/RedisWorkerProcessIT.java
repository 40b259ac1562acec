package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskState;
import dev.errand.redis.testing.TestRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The worker process tests on a real Redis ({@link TestRedis}: one of the run's own, or {@code
 * ERRAND_TEST_REDIS}), each under a key prefix of its own, plus losing the connection mid-run.
 */
class RedisWorkerProcessIT extends WorkerProcessIT {

  String prefix;

  @Override
  String newBackendUrl(Path dir) {
    prefix = TestRedis.newPrefix();
    return TestRedis.url(prefix);
  }

  @Override
  void cleanUp() {
    TestRedis.deleteKeys(prefix);
  }

  @Test
  void workerResumesAfterItsConnectionsAreKilledAndNothingIsLost() throws Exception {
    String name = prefix + "-worker";
    url = url + "&clientName=" + name; // so this test can find the worker's connections
    worker("worker-k", "-c", "4", "--lease", "5s");
    List<AsyncResult<Integer>> sent = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      sent.add(send(i, 150));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> Files.exists(log) && Files.readString(log).contains("done"));

    long killed = killConnections(name);
    assertThat(killed).as("connections of the worker killed").isGreaterThanOrEqualTo(2);
    Thread.sleep(300);
    assertThat(killConnections(name)).as("reconnected, killed again").isPositive();

    for (AsyncResult<Integer> r : sent) {
      assertThat(r.get(Duration.ofSeconds(90))).isPositive();
    }
    // Still consuming, not just alive: work sent after the kills is done too.
    AsyncResult<Integer> after = send(99, 10);
    assertThat(after.get(Duration.ofSeconds(30))).isEqualTo(99);
    assertThat(after.state()).isEqualTo(TaskState.SUCCESS);
  }

  /**
   * Kills the connections named {@code name} (the worker's own, nobody else's); returns how many.
   */
  static long killConnections(String name) {
    return TestRedis.redis(
        r -> {
          long n = 0;
          for (String line : r.clientList().split("\n")) {
            if (line.contains(" name=" + name + " ")) {
              String id = line.substring(line.indexOf("id=") + 3, line.indexOf(' '));
              n += r.clientKill(io.lettuce.core.KillArgs.Builder.id(Long.parseLong(id)));
            }
          }
          return n;
        });
  }
}
