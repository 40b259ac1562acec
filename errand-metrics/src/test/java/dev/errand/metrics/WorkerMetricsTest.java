package dev.errand.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.memory.InMemoryBackend;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A real worker on an in-memory backend, counted by {@link WorkerMetrics}. */
class WorkerMetricsTest {

  static final Duration WAIT = Duration.ofSeconds(10);

  static final TaskDef<String, String> ECHO = TaskDef.of("mail.send", String.class, String.class);
  static final TaskDef<String, String> FLAKY =
      TaskDef.builder("hooks.post", String.class, String.class)
          .options(
              TaskOptions.builder()
                  .retry(
                      RetryPolicy.builder()
                          .maxRetries(2)
                          .backoff(Duration.ofMillis(10))
                          .jitter(false)
                          .build())
                  .build())
          .build();
  static final TaskDef<String, String> NOBODY =
      TaskDef.of("no.handler", String.class, String.class);

  final InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC());
  final Client client = Client.builder(backend).build();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  Worker worker;

  @AfterEach
  void close() {
    if (worker != null) {
      worker.shutdown(Duration.ofSeconds(2));
    }
    backend.close();
  }

  @Test
  void countsOutcomesRetriesDeadLettersAndRunningTasksOfThisWorker() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    TaskDef<String, String> slow = TaskDef.of("export.csv", String.class, String.class);
    worker =
        Worker.builder(backend)
            .tasks(
                new TaskRegistry()
                    .handle(ECHO, (s, ctx) -> s)
                    .handle(
                        FLAKY,
                        (s, ctx) -> {
                          throw new IOException("503 from the webhook");
                        })
                    .handle(
                        slow,
                        (s, ctx) -> {
                          started.countDown();
                          release.await();
                          return s;
                        }))
            .options(
                WorkerOptions.builder()
                    .concurrency(4)
                    .pollInterval(Duration.ofMillis(50))
                    .shutdownTimeout(Duration.ofSeconds(2))
                    .build())
            .listener(new WorkerMetrics(registry))
            .build()
            .start();

    for (int i = 0; i < 3; i++) {
      client.enqueue(ECHO, "hello " + i);
    }
    AsyncResult<String> flaky = client.enqueue(FLAKY, "x");
    client.enqueue(NOBODY, "lost");
    AsyncResult<String> export = client.enqueue(slow, "rows");

    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(WAIT).until(() -> flaky.state() == TaskState.FAILURE);
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(count("mail.send", "succeeded")).isEqualTo(3));
    assertThat(registry.get("errand.worker.running").gauge().value()).isEqualTo(1);

    release.countDown();
    await().atMost(WAIT).until(() -> export.state() == TaskState.SUCCESS);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(registry.get("errand.worker.running").gauge().value()).isZero());

    assertThat(count("export.csv", "succeeded")).isEqualTo(1);
    assertThat(count("hooks.post", "failed")).isEqualTo(1);
    assertThat(registry.get("errand.task.retries").tag("name", "hooks.post").counter().count())
        .isEqualTo(2);
    // A message no handler knows never runs, but it failed all the same.
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(count("no.handler", "failed")).isEqualTo(1));
    assertThat(deadLettered("failed")).isEqualTo(1);
    assertThat(deadLettered("unknown_task")).isEqualTo(1);
    assertThat(
            registry
                .get("errand.task.runtime")
                .tags("name", "export.csv", "outcome", "succeeded")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("errand.task.runtime")
                .tags("name", "hooks.post", "outcome", "failed")
                .timer()
                .count())
        .isEqualTo(1);
  }

  @Test
  void taskNamesBeyondTheBoundCountUnderOther() {
    TaskMeters tasks = new TaskMeters(registry, 3);
    for (int i = 0; i < 5; i++) {
      tasks.succeeded("report.n" + i, Duration.ofMillis(10));
      tasks.retried("report.n" + i);
      tasks.deadLettered("queue-" + i, null);
    }
    tasks.failed("report.n0", null); // a name admitted earlier keeps its series

    assertThat(count("report.n0", "succeeded")).isEqualTo(1);
    assertThat(count("report.n2", "succeeded")).isEqualTo(1);
    assertThat(count("report.n3", "succeeded")).isZero();
    assertThat(count(TaskMeters.OTHER, "succeeded")).isEqualTo(2);
    assertThat(count("report.n0", "failed")).isEqualTo(1);
    assertThat(registry.get("errand.task.retries").tag("name", "other").counter().count())
        .isEqualTo(2);
    assertThat(registry.find("errand.dead.lettered").tag("queue", "other").counter().count())
        .isEqualTo(2);
    assertThat(registry.getMeters())
        .extracting(m -> m.getId().getTag("name"))
        .filteredOn(java.util.Objects::nonNull)
        .containsOnly("report.n0", "report.n1", "report.n2", "other");
  }

  @Test
  void theDefaultBoundIsTwoHundredNamesAndABadBoundIsRefused() {
    TaskMeters tasks = new TaskMeters(registry);
    for (int i = 0; i < 250; i++) {
      tasks.revoked("generated." + i);
    }
    assertThat(registry.find("errand.tasks").counters()).hasSize(TaskMeters.DEFAULT_MAX_NAMES + 1);
    assertThat(count(TaskMeters.OTHER, "revoked")).isEqualTo(50);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new WorkerMetrics(registry, 0))
        .hasMessage("maxNames must be > 0 but was 0");
  }

  private double count(String name, String outcome) {
    var c = registry.find("errand.tasks").tags("name", name, "outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private double deadLettered(String reason) {
    var c =
        registry.find("errand.dead.lettered").tags("queue", "default", "reason", reason).counter();
    return c == null ? 0 : c.count();
  }
}
