package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskState;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The worker process tests on the real Redis (ERRAND_TEST_REDIS, default 127.0.0.1:6379/9), each
 * under a key prefix of its own, plus losing the connection mid-run.
 */
class RedisWorkerProcessIT extends WorkerProcessIT {

  static final String SERVER =
      System.getenv().getOrDefault("ERRAND_TEST_REDIS", "redis://127.0.0.1:6379/9");

  String prefix;

  @Override
  String newBackendUrl(Path dir) {
    prefix = "errand-it-" + UUID.randomUUID().toString().substring(0, 8);
    return SERVER + "?prefix=" + prefix;
  }

  @Override
  void cleanUp() {
    deleteKeys(prefix);
  }

  /** Deletes every key under {@code prefix}. */
  static void deleteKeys(String prefix) {
    redis(
        r -> {
          ScanIterator<String> keys =
              ScanIterator.scan(r, ScanArgs.Builder.matches(prefix + ":*").limit(1000));
          List<String> all = new ArrayList<>();
          keys.forEachRemaining(all::add);
          if (!all.isEmpty()) {
            r.unlink(all.toArray(String[]::new));
          }
          return null;
        });
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

  /** Kills the connections named {@code name}; returns how many. */
  static long killConnections(String name) {
    return redis(
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

  static <T> T redis(Function<RedisCommands<String, String>, T> work) {
    RedisClient client = RedisClient.create(SERVER);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return work.apply(c.sync());
    } finally {
      client.shutdown();
    }
  }
}
