package dev.errand.worker;

import static dev.errand.worker.Tasks.ADD;
import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskState;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PoisonMessageTest extends WorkerTestSupport {

  TaskRegistry tasks() {
    return new TaskRegistry()
        .handle(JOB, (job, ctx) -> "ok " + job.label())
        .handle(ADD, (a, ctx) -> a.x() + a.y());
  }

  @Test
  void undecodableMessageGoesToTheDeadLettersAndTheWorkerGoesOn() throws Exception {
    backend
        .broker()
        .enqueue(
            List.of(
                new NewMessage(
                    "garbage-1",
                    "default",
                    5,
                    "{not json".getBytes(StandardCharsets.UTF_8),
                    null,
                    null,
                    null)));
    startWorker(tasks(), o -> {});

    await().atMost(WAIT).until(() -> client.deadLetters().get("garbage-1").isPresent());
    DeadLetter dl = client.deadLetters().get("garbage-1").orElseThrow();
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.error().message()).contains("not valid JSON");
    assertThat(dl.body()).isEqualTo("{not json");
    awaitState(client.result("garbage-1"), TaskState.FAILURE);

    assertThat(client.enqueue(JOB, new Tasks.Job("next")).get(WAIT)).isEqualTo("ok next");
  }

  @Test
  void unknownTaskNameGoesToTheDeadLetters() throws Exception {
    startWorker(tasks(), o -> {});
    AsyncResult<?> r = client.send("nobody.handles.this", "{\"x\": 1}");

    awaitState(r, TaskState.FAILURE);
    DeadLetter dl = client.deadLetters().get(r.id()).orElseThrow();
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNKNOWN_TASK);
    assertThat(dl.taskName()).isEqualTo("nobody.handles.this");
    assertThat(dl.error().message()).contains("no handler for task 'nobody.handles.this'");
  }

  @Test
  void argumentsThatDoNotBindGoToTheDeadLettersWithoutRetry() throws Exception {
    startWorker(tasks(), o -> {});
    AsyncResult<?> r = client.send("math.add", "[1, 2, 3]");

    awaitState(r, TaskState.FAILURE);
    DeadLetter dl = client.deadLetters().get(r.id()).orElseThrow();
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.INVALID_ARGUMENTS);
    assertThat(dl.error().message()).contains("takes 2 positional arguments but 3 were given");
    assertThat(r.status().attempt()).isEqualTo(1);
  }

  @Test
  void positionalArgumentsBindToRecordComponents() throws Exception {
    startWorker(tasks(), o -> {});
    assertThat(client.send("math.add", "[40, 2]").get(WAIT).asInt()).isEqualTo(42);
    assertThat(client.send("math.add", "{\"x\": 1, \"y\": 2}").get(WAIT).asInt()).isEqualTo(3);
  }

  @Test
  void messageDeliveredTooOftenWithoutOutcomeIsDeadLettered() throws Exception {
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("crashes its worker"));
    // Five workers took it and died before any outcome.
    for (int i = 0; i < 5; i++) {
      List<Delivery> d =
          backend.broker().claim(List.of("default"), 1, Duration.ofSeconds(30), Duration.ZERO);
      assertThat(d).hasSize(1);
      clock.advance(Duration.ofSeconds(31));
    }
    startWorker(tasks(), o -> o.maxDeliveries(5));

    awaitState(r, TaskState.FAILURE);
    DeadLetter dl = client.deadLetters().get(r.id()).orElseThrow();
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.TOO_MANY_DELIVERIES);
    assertThat(dl.error().message()).contains("delivered 6 times");
  }

  @Test
  void resultOverTheSizeLimitFailsTheTask() throws Exception {
    startWorker(
        new TaskRegistry().handle(JOB, (job, ctx) -> "x".repeat(5_000)),
        o -> o.maxResultBytes(1_000));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("big"));

    awaitState(r, TaskState.FAILURE);
    assertThat(r.status().error().type()).isEqualTo("dev.errand.MessageTooLargeException");
    assertThat(r.status().error().message()).contains("over the limit of 1000 bytes");
  }

  @Test
  void deadLetterCanBeRedrivenAndThenSucceeds() throws Exception {
    Worker old = startWorker(tasks(), o -> {});
    AsyncResult<?> r = client.send("jobs.later", "{\"label\": \"x\"}");
    awaitState(r, TaskState.FAILURE);
    assertThat(client.deadLetters().count(null)).isEqualTo(1);
    old.close();

    // Fix the cause (deploy a worker that knows the task), then re-drive.
    startWorker(
        new TaskRegistry()
            .handle(
                dev.errand.TaskDef.of("jobs.later", Tasks.Job.class, String.class),
                (job, ctx) -> "ran " + job.label()),
        o -> {});
    assertThat(client.deadLetters().redrive(r.id())).isTrue();

    assertThat(r.get(WAIT)).hasToString("\"ran x\"");
    assertThat(client.deadLetters().count(null)).isZero();
    assertThat(r.status().attempt()).isEqualTo(1);
  }

  private void enqueueRaw(String id, String body) {
    backend
        .broker()
        .enqueue(
            List.of(
                new NewMessage(
                    id, "default", 5, body.getBytes(StandardCharsets.UTF_8), null, null, null)));
  }

  private static String message(String id, String extra) {
    return "{\"v\":1,\"id\":\""
        + id
        + "\",\"task\":\"jobs.run\",\"queue\":\"default\""
        + extra
        + "}";
  }

  private DeadLetter awaitDeadLetter(String id) {
    await().atMost(WAIT).until(() -> client.deadLetters().get(id).isPresent());
    return client.deadLetters().get(id).orElseThrow();
  }

  @Test
  void argumentsNestedTooDeeplyAreDeadLetteredOnFirstDeliveryAndTheWorkerGoesOn() throws Exception {
    // The finding: 998 levels decoded, ran, and then froze the worker when the status with its
    // arguments could not be written.
    String deep = "[".repeat(998) + "]".repeat(998);
    enqueueRaw("deep-1", message("deep-1", ",\"kwargs\":{\"n\":1,\"deep\":" + deep + "}"));
    startWorker(tasks(), o -> {});

    DeadLetter dl = awaitDeadLetter("deep-1");
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.error().message()).contains("nest 999 levels deep; at most 100");
    assertThat(dl.attempts()).isEqualTo(1);
    awaitState(client.result("deep-1"), TaskState.FAILURE);
    assertThat(client.enqueue(JOB, new Tasks.Job("next")).get(WAIT)).isEqualTo("ok next");
    // The ack follows the stored result: nothing stays leased once it is done.
    await().atMost(WAIT).until(() -> backend.broker().stats("default").leased() == 0);
  }

  @Test
  void aMessageOverTheWorkersSizeLimitIsDeadLettered() throws Exception {
    // 5 MB sent by hand, past the client's check.
    String big = "x".repeat(5 * 1024 * 1024);
    enqueueRaw("big-1", message("big-1", ",\"args\":[\"" + big + "\"]"));
    startWorker(tasks(), o -> {});

    DeadLetter dl = awaitDeadLetter("big-1");
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.error().type()).isEqualTo("MessageTooLarge");
    assertThat(dl.error().message())
        .contains("exceeds this worker's limit of " + (1024 * 1024 + 64 * 1024) + " bytes");
    assertThat(client.enqueue(JOB, new Tasks.Job("next")).get(WAIT)).isEqualTo("ok next");
  }

  @Test
  void invalidOptionsAndFieldsAreUndecodableOnFirstDelivery() throws Exception {
    enqueueRaw(
        "opts-1",
        message(
            "opts-1",
            ",\"options\":{\"retry\":{\"maxRetries\":-7,\"backoffMs\":1000,"
                + "\"backoffMaxMs\":2000,\"jitter\":true}}"));
    enqueueRaw("prio-1", message("prio-1", ",\"priority\":12"));
    enqueueRaw("retries-1", message("retries-1", ",\"retries\":-1"));
    enqueueRaw("limit-1", message("limit-1", ",\"options\":{\"hardTimeLimitMs\":-5}"));
    startWorker(tasks(), o -> {});

    assertThat(awaitDeadLetter("opts-1").error().message())
        .contains("invalid 'options'")
        .contains("maxRetries");
    assertThat(awaitDeadLetter("prio-1").error().message())
        .contains("'priority' must be 0-9 but was 12");
    assertThat(awaitDeadLetter("retries-1").error().message())
        .contains("'retries' must be >= 0 but was -1");
    assertThat(awaitDeadLetter("limit-1").error().message()).contains("invalid 'options'");
    for (String id : List.of("opts-1", "prio-1", "retries-1", "limit-1")) {
      DeadLetter dl = client.deadLetters().get(id).orElseThrow();
      assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
      assertThat(dl.attempts()).as(id).isEqualTo(1);
    }
  }

  @Test
  void aResultNestedTooDeeplyFailsTheTaskWithTheReason() throws Exception {
    startWorker(
        new TaskRegistry()
            .handle(JOB, (job, ctx) -> "ok " + job.label())
            .handle(
                dev.errand.TaskDef.of("jobs.deep", Tasks.Job.class, Object.class),
                (job, ctx) -> {
                  Object v = "leaf";
                  for (int i = 0; i < 101; i++) {
                    v = List.of(v);
                  }
                  return v;
                }),
        o -> {});
    AsyncResult<?> r = client.send("jobs.deep", "{\"label\": \"x\"}");

    awaitState(r, TaskState.FAILURE);
    assertThat(r.status().error().message()).contains("result nest 101 levels deep");
    assertThat(client.deadLetters().get(r.id()).orElseThrow().reason())
        .isEqualTo(DeadLetterReason.FAILED);
    assertThat(client.enqueue(JOB, new Tasks.Job("next")).get(WAIT)).isEqualTo("ok next");
  }

  @Test
  void progressMetaNestedTooDeeplyIsRefusedToTheHandler() throws Exception {
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  Object v = 1;
                  for (int i = 0; i < 101; i++) {
                    v = java.util.Map.of("k", v);
                  }
                  try {
                    ctx.progress(v);
                    return "accepted";
                  } catch (dev.errand.InvalidMessageException e) {
                    ctx.progress(java.util.Map.of("ok", true));
                    return "refused: " + e.getMessage();
                  }
                }),
        o -> {});

    assertThat(client.enqueue(JOB, new Tasks.Job("x")).get(WAIT))
        .startsWith("refused: progress meta nest 101 levels deep");
  }
}
