package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.AsyncResult;
import dev.errand.cli.internal.ErrandCommand;
import dev.errand.redis.testing.TestRedis;
import dev.errand.redis.testing.TestRedisCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Worker processes on a Redis Cluster of three masters and three replicas ({@code
 * redis-cluster://}): one sharded queue drained by three of them, each task once; and again with
 * one of them SIGKILLed mid-drain, losing nothing. (The contract suite covers the rest on the
 * cluster; the other worker process tests are the same on every Redis.)
 */
class RedisClusterWorkerProcessIT extends WorkerProcessHarness {

  String prefix;

  @Override
  String newBackendUrl(Path dir) {
    prefix = TestRedis.newPrefix();
    return TestRedisCluster.url(prefix, "");
  }

  @Override
  void cleanUp() {
    TestRedisCluster.deleteKeys(prefix);
  }

  @Test
  void aShardedQueueIsDrainedByThreeWorkerProcessesAndEachTaskRunsOnce() throws Exception {
    assertThat(cli("queue", "shards", "default", "3", "--broker", url))
        .isEqualTo(
            "'default' now has 3 shards (was 1; the earlier shards are drained, then forgotten)\n");
    assertThat(cli("queue", "shards", "default", "--broker", url))
        .isEqualTo("'default' has 3 shards\n");
    for (int w = 1; w <= 3; w++) {
      worker("worker-s" + w, "-c", "4");
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> backend.workers().live().size() == 3);
    List<AsyncResult<Integer>> sent = new ArrayList<>();
    for (int i = 1; i <= 300; i++) {
      sent.add(send(i, 20));
    }
    for (AsyncResult<Integer> r : sent) {
      assertThat(r.get(Duration.ofSeconds(120))).isPositive();
    }

    Map<String, Integer> doneCount = new HashMap<>();
    Map<String, Integer> perPid = new HashMap<>();
    for (String line : Files.readAllLines(log)) {
      String[] f = line.split(" ");
      if (f[0].equals("done")) {
        doneCount.merge(f[1], 1, Integer::sum);
        perPid.merge(f[2], 1, Integer::sum);
      }
    }
    assertThat(doneCount).hasSize(300);
    assertThat(doneCount.values()).as("each task ran once").containsOnly(1);
    assertThat(perPid).as("every worker process took its share").hasSize(3);
    assertThat(backend.broker().stats("default").leased()).isZero();
    assertThat(cli("inspect", "queues", "--broker", url)).contains("default (3 shards)");
    assertThat(cli("inspect", "queues", "--json", "--broker", url)).contains("\"shards\" : 3");
  }

  /** Runs the CLI in this JVM; returns what it printed, failing unless it exited 0. */
  private static String cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    assertThat(code).as("errand %s: %s", String.join(" ", args), err).isZero();
    return out.toString();
  }

  @Test
  void aWorkerSigkilledWhileDrainingAShardedQueueLosesNothing() throws Exception {
    backend.broker().setShards("default", 3);
    List<AsyncResult<Integer>> sent = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      sent.add(send(i, 300));
    }
    Process victim = worker("worker-k1", "-c", "4", "--lease", "3s");
    worker("worker-k2", "-c", "4", "--lease", "3s");
    worker("worker-k3", "-c", "4", "--lease", "3s");
    // until the victim (the child of its supervisor) is in the middle of a task: one it started
    // and has not finished (each takes 300 ms)
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () ->
                Files.exists(log)
                    && !unfinished(Files.readAllLines(log), workerPid(victim)).isEmpty());
    long victimPid = workerPid(victim);
    victim.destroyForcibly(); // SIGKILL mid-drain: its leased tasks come back after the lease
    assertThat(victim.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

    for (AsyncResult<Integer> r : sent) {
      assertThat(r.get(Duration.ofSeconds(120))).isPositive();
    }
    List<String> lines = Files.readAllLines(log);
    Set<String> cutShort = unfinished(lines, victimPid);
    Map<String, Integer> doneCount = new HashMap<>();
    Set<String> doneByVictim = new HashSet<>();
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f[0].equals("done")) {
        doneCount.merge(f[1], 1, Integer::sum);
        if (f[2].equals(Long.toString(victimPid))) {
          doneByVictim.add(f[1]);
        }
      }
    }
    assertThat(cutShort).as("tasks the kill cut short").isNotEmpty();
    assertThat(doneCount).as("every task done, those cut short too").hasSize(200);
    // A task runs twice only if the victim ran it to the end but died before its outcome was
    // settled (settlements are group-committed, so how many depends on the load): never one the
    // live workers both ran, and never more than twice.
    Map<String, Integer> twice = new HashMap<>(doneCount);
    twice.values().removeIf(n -> n == 1);
    assertThat(twice.values()).as("runs of a task run more than once").allMatch(n -> n == 2);
    assertThat(doneByVictim)
        .as("only what the killed worker held may have run twice")
        .containsAll(twice.keySet());
    assertThat(backend.broker().stats("default").leased()).isZero();
  }

  /** Tasks the worker process {@code pid} logged as started and not as done. */
  private static Set<String> unfinished(List<String> lines, long pid) {
    Set<String> open = new HashSet<>();
    String id = Long.toString(pid);
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f.length >= 3 && f[2].equals(id)) {
        if (f[0].equals("start")) {
          open.add(f[1]);
        } else if (f[0].equals("done")) {
          open.remove(f[1]);
        }
      }
    }
    return open;
  }
}
