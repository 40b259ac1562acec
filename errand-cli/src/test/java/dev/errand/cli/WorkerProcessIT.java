package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskState;
import dev.errand.spi.QueueStats;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Real {@code errand worker} processes sharing one backend: one is killed with SIGKILL mid-task and
 * nothing is lost; a task that runs for three times its lease runs once; SIGTERM hands prefetched
 * tasks back at once, finishes the running one and exits 0, a second SIGTERM exits at once; {@code
 * --metrics} serves Prometheus metrics. Subclassed once per backend.
 */
abstract class WorkerProcessIT extends WorkerProcessHarness {

  @Test
  void killedWorkersTaskRunsAgainElsewhereAndNothingIsLost() throws Exception {
    Process a = worker("worker-a", "-c", "2", "--prefetch", "0", "--lease", "3s");
    AsyncResult<Integer> longTask = send(0, 4_000);
    await().atMost(Duration.ofSeconds(60)).until(() -> longTask.state() == TaskState.STARTED);
    assertThat(longTask.status().worker()).isEqualTo("worker-a");
    Process b = worker("worker-b", "-c", "2", "--lease", "3s");
    List<AsyncResult<Integer>> rest = new ArrayList<>();
    for (int i = 1; i <= 30; i++) {
      rest.add(send(i, 100));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("start"));

    a.destroyForcibly(); // SIGKILL: no shutdown, no ack, no release
    assertThat(a.waitFor(10, TimeUnit.SECONDS)).isTrue();

    assertThat(longTask.get(Duration.ofSeconds(90))).isZero();
    for (AsyncResult<Integer> r : rest) {
      assertThat(r.get(Duration.ofSeconds(60))).isPositive();
    }
    assertThat(longTask.status().worker()).isEqualTo("worker-b");
    String runs = Files.readString(log);
    assertThat(runs.split("start " + longTask.id(), -1)).as(runs).hasSize(3); // ran twice
    assertThat(runs).contains("done " + longTask.id() + " " + workerPid(b));
    assertThat(b.isAlive()).isTrue();
  }

  @Test
  void aTaskRunningThreeTimesItsLeaseRunsOnce() throws Exception {
    worker("worker-l1", "-c", "1", "--lease", "2s");
    worker("worker-l2", "-c", "1", "--lease", "2s");
    AsyncResult<Integer> slow = send(7, 6_500); // renewed every 2/3 s while it runs

    assertThat(slow.get(Duration.ofSeconds(60))).isEqualTo(7);
    String runs = Files.readString(log);
    assertThat(runs.split("start " + slow.id(), -1)).as(runs).hasSize(2); // exactly one start
  }

  @Test
  void sigtermHandsBackPrefetchedTasksAtOnceAndFinishesTheRunningOne() throws Exception {
    Process w = worker("worker-t", "-c", "1", "--prefetch", "5", "--shutdown-timeout", "30s");
    AsyncResult<Integer> first = send(1, 3_000);
    await().atMost(Duration.ofSeconds(60)).until(() -> first.state() == TaskState.STARTED);
    List<AsyncResult<Integer>> waiting = new ArrayList<>();
    for (int i = 2; i <= 6; i++) {
      waiting.add(send(i, 3_000));
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> backend.broker().stats("default").leased() == 6);

    w.destroy(); // SIGTERM
    await()
        .atMost(Duration.ofSeconds(2)) // at once, not after the running task's 3 s
        .untilAsserted(
            () -> {
              QueueStats s = backend.broker().stats("default");
              assertThat(s.ready()).isEqualTo(5);
              assertThat(s.leased()).isEqualTo(1);
            });
    assertThat(w.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(w.exitValue()).as("a clean stop, for systemd and supervisors").isZero();
    assertThat(Files.readString(dir.resolve("worker-t.out"))).contains("worker worker-t stopped");
    assertThat(first.get(Duration.ofSeconds(5))).isEqualTo(1);
    for (AsyncResult<Integer> r : waiting) {
      assertThat(r.state()).isIn(TaskState.RECEIVED, TaskState.PENDING);
    }
    assertThat(backend.broker().stats("default").ready()).isEqualTo(5);
  }

  @Test
  void aSecondSigtermWhileStoppingExitsAtOnceAndTheRunningTaskComesBack() throws Exception {
    Process w = worker("worker-2t", "-c", "1", "--prefetch", "0", "--lease", "2s");
    AsyncResult<Integer> slow = send(1, 120_000);
    await().atMost(Duration.ofSeconds(60)).until(() -> slow.state() == TaskState.STARTED);
    Path out = dir.resolve("worker-2t.out");

    w.destroy(); // SIGTERM: waits for the running task, up to the 30 s shutdown timeout
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.readString(out).contains("SIGTERM: stopping"));
    assertThat(w.isAlive()).isTrue();
    w.destroy(); // again: exit now

    assertThat(w.waitFor(10, TimeUnit.SECONDS)).as("exits at once, not after the task").isTrue();
    assertThat(w.exitValue()).as("128 + SIGTERM: not a clean stop").isEqualTo(143);
    assertThat(Files.readString(out)).contains("SIGTERM again while stopping: exiting now");
    // Nothing is lost: the task's lease expires and it is ready for another worker.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> backend.broker().stats("default").ready() == 1);
  }

  @Test
  void servesPrometheusMetricsWithoutTheDashboard() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    worker("worker-m", "-c", "2", "--metrics", "127.0.0.1:" + port);
    List<AsyncResult<Integer>> sent = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      sent.add(send(i, 10));
    }
    for (AsyncResult<Integer> r : sent) {
      assertThat(r.get(Duration.ofSeconds(60))).isPositive();
    }
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest scrape =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
    // Outcomes are counted once the status is written, a moment after the result is readable.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(http.send(scrape, HttpResponse.BodyHandlers.ofString()).body())
                    .contains("errand_tasks_total{name=\"it.work\",outcome=\"succeeded\"} 3.0")
                    .contains(
                        "errand_task_runtime_seconds_count{name=\"it.work\",outcome=\"succeeded\"} 3")
                    .contains("errand_queue_ready{queue=\"default\"} 0.0")
                    .contains("errand_workers 1.0")
                    .contains("errand_worker_running 0.0")
                    .contains("jvm_memory_used_bytes"));
    assertThat(Files.readString(dir.resolve("worker-m.out")))
        .contains("metrics:     http://127.0.0.1:" + port + "/metrics");
  }

  @Test
  void servesAReadOnlyDashboardThatMasksTheNamesGiven() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    worker("worker-d", "--dashboard", "127.0.0.1:" + port, "--read-only", "--mask", "iban,card");
    // No handler for it: a dead letter holding the arguments and the raw message.
    client.send("it.unknown", "{\"iban\":\"DE89-secret\",\"password\":\"pw-secret\"}");
    await().atMost(Duration.ofSeconds(60)).until(() -> backend.deadLetters().count(null) == 1);

    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + port;
    String letters =
        http.send(
                HttpRequest.newBuilder(URI.create(base + "/api/dead-letters")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(letters).contains("\"iban\":\"****\"").doesNotContain("DE89-secret", "pw-secret");
    String csrf = "0123456789abcdef0123456789abcdef";
    HttpResponse<String> discard =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/api/dead-letters/discard"))
                .header("Cookie", "errand_csrf=" + csrf)
                .header("X-CSRF-Token", csrf)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(discard.statusCode()).isEqualTo(403);
    assertThat(discard.body()).contains("read-only");
    assertThat(backend.deadLetters().count(null)).isEqualTo(1);
    assertThat(Files.readString(dir.resolve("worker-d.out")))
        .contains("dashboard:   " + base + " (read-only)");
  }
}
