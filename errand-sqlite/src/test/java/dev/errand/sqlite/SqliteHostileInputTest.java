package dev.errand.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskDef;
import dev.errand.TaskState;
import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.spi.NewMessage;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile messages sent past the client, straight into the broker, against a real worker on a real
 * SQLite file: each one ends as a dead letter with its reason on its first delivery, and the worker
 * goes on running the next task and reporting itself healthy.
 */
class SqliteHostileInputTest {

  record Job(String label) {}

  static final TaskDef<Job, String> JOB = TaskDef.of("jobs.run", Job.class, String.class);
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  Backend backend;
  Client client;
  Worker worker;

  @BeforeEach
  void start() {
    backend = Backends.open("sqlite:" + dir.resolve("hostile.db"));
    client = Client.create(backend);
    worker =
        Worker.builder(backend)
            .tasks(new TaskRegistry().handle(JOB, (job, ctx) -> "ok " + job.label()))
            .options(
                WorkerOptions.builder()
                    .name("hostile")
                    .concurrency(2)
                    .pollInterval(Duration.ofMillis(100))
                    .heartbeatInterval(Duration.ofMillis(100))
                    .build())
            .build()
            .start();
  }

  @AfterEach
  void stop() {
    worker.shutdown(Duration.ofSeconds(5));
    backend.close();
  }

  private void enqueueRaw(String id, String extraFields) {
    String body =
        "{\"v\":1,\"id\":\""
            + id
            + "\",\"task\":\"jobs.run\",\"queue\":\"default\""
            + extraFields
            + "}";
    backend
        .broker()
        .enqueue(
            List.of(
                new NewMessage(
                    id, "default", 5, body.getBytes(StandardCharsets.UTF_8), null, null, null)));
  }

  private DeadLetter awaitDeadLetter(String id) {
    await().atMost(WAIT).until(() -> client.deadLetters().get(id).isPresent());
    return client.deadLetters().get(id).orElseThrow();
  }

  private void assertTheWorkerGoesOn() throws Exception {
    AsyncResult<String> next = client.enqueue(JOB, new Job("next"));
    assertThat(next.get(WAIT)).isEqualTo("ok next");
    await().atMost(WAIT).until(() -> backend.broker().stats("default").leased() == 0);
    WorkerInfo reported =
        backend.workers().live().stream()
            .filter(w -> w.name().equals("hostile"))
            .findFirst()
            .orElseThrow();
    assertThat(reported.consuming()).as(String.valueOf(reported.problem())).isTrue();
  }

  @Test
  void kwargsNested998LevelsDeepAreDeadLetteredAndDoNotFreezeTheWorker() throws Exception {
    String deep = "[".repeat(998) + "]".repeat(998);
    enqueueRaw("deep", ",\"kwargs\":{\"n\":1,\"deep\":" + deep + "}");

    DeadLetter dl = awaitDeadLetter("deep");
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.error().message()).contains("nest 999 levels deep");
    // The worker writes the dead letter first, then the status: the status may lag a moment.
    await().atMost(WAIT).until(() -> client.result("deep").state() == TaskState.FAILURE);
    assertTheWorkerGoesOn();
  }

  @Test
  void aFiveMegabyteMessageSentByHandIsDeadLettered() throws Exception {
    enqueueRaw("big", ",\"args\":[\"" + "x".repeat(5 * 1024 * 1024) + "\"]");

    DeadLetter dl = awaitDeadLetter("big");
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.error().type()).isEqualTo("MessageTooLarge");
    assertTheWorkerGoesOn();
  }

  @Test
  void invalidOptionsAreDeadLetteredOnTheFirstDelivery() throws Exception {
    enqueueRaw(
        "opts",
        ",\"options\":{\"retry\":{\"maxRetries\":-7,\"backoffMs\":1,\"backoffMaxMs\":1,"
            + "\"jitter\":false}}");

    DeadLetter dl = awaitDeadLetter("opts");
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.attempts()).isEqualTo(1);
    assertThat(dl.error().message()).contains("maxRetries must be >= 0 but was -7");
    assertTheWorkerGoesOn();
  }
}
