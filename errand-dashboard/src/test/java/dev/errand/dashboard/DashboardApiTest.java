package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.wire.Wire;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every API endpoint against a dashboard on a live in-memory backend, and its access rules. */
class DashboardApiTest extends ApiFixture {

  void storeTasks() {
    Instant now = Instant.now();
    TaskStatus ok =
        new TaskStatus(
                "t-ok",
                "emails.send",
                TaskState.SUCCESS,
                "email",
                null,
                null,
                null,
                null,
                1,
                "w1",
                now.minusSeconds(30),
                now.minusSeconds(20),
                now.minusSeconds(10),
                null,
                now.minusSeconds(10))
            .withCall(
                null,
                Wire.mapper()
                    .createObjectNode()
                    .set(
                        "kwargs",
                        Wire.mapper()
                            .createObjectNode()
                            .put("to", "ada@example.com")
                            .put("password", "hunter2")),
                null);
    TaskStatus failed =
        new TaskStatus(
                "t-bad",
                "reports.build",
                TaskState.FAILURE,
                "default",
                null,
                new TaskError(
                    "java.io.IOException",
                    "disk full",
                    "java.io.IOException: disk full\n\tat Report.write"),
                null,
                null,
                2,
                "w1",
                now.minusSeconds(60),
                now.minusSeconds(5),
                now.minusSeconds(4),
                null,
                now.minusSeconds(4))
            .withCall(
                null,
                null,
                List.of(
                    new TaskStatus.Retry(
                        1,
                        now.minusSeconds(30),
                        new TaskError("java.io.IOException", "disk slow", null))));
    TaskStatus child =
        new TaskStatus(
                "t-child",
                "reports.part",
                TaskState.STARTED,
                "default",
                null,
                null,
                null,
                null,
                1,
                "w1",
                now.minusSeconds(3),
                now.minusSeconds(2),
                null,
                null,
                now.minusSeconds(2))
            .withCall("t-bad", null, null);
    backend.results().putAll(List.of(ok, failed, child), Duration.ofHours(1));
  }

  @Test
  void overviewQueuesWorkersAndMetricsShowTheBackend() throws Exception {
    start(Dashboard.builder(backend));
    storeTasks();
    client.send("emails.send", "{\"to\":\"x\"}");
    backend
        .workers()
        .heartbeat(
            new WorkerInfo(
                "w1",
                "host",
                42,
                List.of("email"),
                4,
                "threads",
                Instant.now().minusSeconds(60),
                Instant.now(),
                List.of(new WorkerInfo.RunningTask("t-child", "reports.part", Instant.now())),
                10,
                1,
                true),
            Duration.ofSeconds(30));

    JsonNode overview = send(get("/api/overview")).json();
    assertThat(overview.get("workers").asInt()).isEqualTo(1);
    assertThat(overview.get("running").get(0).get("taskId").asText()).isEqualTo("t-child");
    assertThat(overview.get("latestFailures").get(0).get("id").asText()).isEqualTo("t-bad");
    assertThat(overview.get("throughput")).hasSize(60);
    long succeeded = 0;
    for (JsonNode b : overview.get("throughput")) {
      succeeded += b.get("succeeded").asLong();
    }
    assertThat(succeeded).isEqualTo(1);
    assertThat(send(get("/api/overview?range=day")).json().get("throughput")).hasSize(96);
    assertThat(send(get("/api/overview?range=week")).status()).isEqualTo(400);

    JsonNode queues = send(get("/api/queues")).json();
    assertThat(queues.get(0).get("queue").asText()).isEqualTo("default");
    assertThat(queues.get(0).get("ready").asInt()).isEqualTo(1);
    JsonNode workers = send(get("/api/workers")).json();
    assertThat(workers.get(0).get("name").asText()).isEqualTo("w1");
    assertThat(workers.get(0).get("healthy").asBoolean()).isTrue();

    // The gauges are read in the background, not by the scrape.
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(send(get("/metrics")).body())
                    .contains("errand_queue_ready{queue=\"default\"} 1")
                    .contains("errand_workers 1"));
  }

  @Test
  void aDeadLetterInAnEmptyQueueWithNoWorkerShowsOnTheQueuesPageTheOverviewAndTheMetrics()
      throws Exception {
    start(Dashboard.builder(backend));
    storeDeadLetter("d1");
    storeDeadLetter("d2");

    JsonNode queues = send(get("/api/queues")).json();
    assertThat(queues).hasSize(1);
    assertThat(queues.get(0).get("queue").asText()).isEqualTo("q");
    assertThat(queues.get(0).get("dead").asInt()).isEqualTo(2);
    assertThat(queues.get(0).get("consumers").asInt()).isZero();
    JsonNode overview = send(get("/api/overview")).json();
    assertThat(overview.get("queues").get(0).get("dead").asInt()).isEqualTo(2);
    assertThat(overview.get("totals").get("dead").asInt()).isEqualTo(2);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(send(get("/metrics")).body())
                    .contains("errand_dead_letters{queue=\"q\"} 2"));
  }

  @Test
  void queuesAreSortedNaturallyAndFlaggedWhenReadyWithoutConsumer() throws Exception {
    start(Dashboard.builder(backend));
    for (String q : List.of("q10", "q2", "q1")) {
      client.send(
          "emails.send",
          Wire.mapper().createObjectNode(),
          dev.errand.TaskOptions.builder().queue(q).build());
    }
    backend
        .workers()
        .heartbeat(
            new WorkerInfo(
                "w1",
                "host",
                42,
                List.of("q2"),
                4,
                "threads",
                Instant.now(),
                Instant.now(),
                List.of(),
                0,
                0,
                true),
            Duration.ofSeconds(30));

    JsonNode queues = send(get("/api/queues")).json();

    List<String> names = new ArrayList<>();
    queues.forEach(q -> names.add(q.get("queue").asText()));
    assertThat(names).containsExactly("q1", "q2", "q10");
    assertThat(queues.get(0).get("unconsumed").asBoolean()).isTrue();
    assertThat(queues.get(1).get("consumers").asInt()).isEqualTo(1);
    assertThat(queues.get(1).get("unconsumed").asBoolean()).isFalse();
    JsonNode overview = send(get("/api/overview")).json();
    assertThat(overview.get("totals").get("unconsumedQueues").asInt()).isEqualTo(2);
    // The overview's note names them from its own queue list, the busiest table being cut at ten.
    List<String> unconsumed = new ArrayList<>();
    overview
        .get("queues")
        .forEach(
            q -> {
              if (q.get("unconsumed").asBoolean()) unconsumed.add(q.get("queue").asText());
            });
    assertThat(unconsumed).containsExactly("q1", "q10");
  }

  @Test
  void theOverviewChartCountsEachFigureInOneCallNotOnePerBucket() throws Exception {
    java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls =
        new java.util.concurrent.ConcurrentHashMap<>();
    dev.errand.spi.ResultStore results =
        (dev.errand.spi.ResultStore)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {dev.errand.spi.ResultStore.class},
                (p, m, args) -> {
                  calls
                      .computeIfAbsent(
                          m.getName(), k -> new java.util.concurrent.atomic.AtomicInteger())
                      .incrementAndGet();
                  try {
                    return m.invoke(backend.results(), args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    dev.errand.spi.Backend counted =
        (dev.errand.spi.Backend)
            java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {dev.errand.spi.Backend.class},
                (p, m, args) -> {
                  if (m.getName().equals("results")) {
                    return results;
                  }
                  try {
                    return m.invoke(backend, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    start(Dashboard.builder(counted));
    storeTasks();

    JsonNode day = send(get("/api/overview?range=day")).json();

    assertThat(day.get("throughput")).hasSize(96);
    long succeeded = 0;
    long failed = 0;
    for (JsonNode b : day.get("throughput")) {
      succeeded += b.get("succeeded").asLong();
      failed += b.get("failed").asLong();
    }
    assertThat(succeeded).isEqualTo(1);
    assertThat(failed).isEqualTo(1);
    assertThat(calls.getOrDefault("count", new java.util.concurrent.atomic.AtomicInteger()))
        .as("count() calls")
        .hasValue(0);
    assertThat(calls.get("countByTime")).as("one per figure: succeeded and failed").hasValue(2);
  }

  @Test
  void tasksAreSearchedPagedAndShownWithTimelineChildrenAndMaskedArguments() throws Exception {
    start(Dashboard.builder(backend));
    storeTasks();

    JsonNode failed = send(get("/api/tasks?state=failure")).json();
    assertThat(failed.get("tasks")).hasSize(1);
    assertThat(failed.get("tasks").get(0).get("id").asText()).isEqualTo("t-bad");
    JsonNode page = send(get("/api/tasks?limit=2")).json();
    assertThat(page.get("tasks")).hasSize(2);
    JsonNode rest = send(get("/api/tasks?limit=2&after=" + page.get("next").asText())).json();
    assertThat(rest.get("tasks")).hasSize(1);
    assertThat(rest.get("next").isNull()).isTrue();
    assertThat(send(get("/api/tasks?name=emails.send")).json().get("tasks")).hasSize(1);
    assertThat(send(get("/api/tasks?id=t-ok")).json().get("tasks")).hasSize(1);
    assertThat(send(get("/api/tasks?state=bogus")).status()).isEqualTo(400);

    JsonNode ok = send(get("/api/tasks/t-ok")).json().get("task");
    assertThat(ok.get("args").get("kwargs").get("to").asText()).isEqualTo("ada@example.com");
    assertThat(ok.get("args").get("kwargs").get("password").asText()).isEqualTo("****");
    JsonNode bad = send(get("/api/tasks/t-bad")).json();
    assertThat(bad.get("task").get("error").get("traceback").asText()).contains("disk full");
    // No events kept for it: the timeline comes from the status alone.
    assertThat(bad.get("timeline"))
        .extracting(n -> n.get("what").asText() + " " + n.get("source").asText())
        .containsExactly("sent status", "retried status", "started status", "failed status");
    assertThat(bad.get("children").get(0).get("id").asText()).isEqualTo("t-child");
    assertThat(send(get("/api/tasks/nope")).status()).isEqualTo(404);

    Reply revoke = post("/api/tasks/t-child/revoke", null);
    assertThat(revoke.json().get("revoked").asBoolean()).isTrue();
    assertThat(backend.results().revoked(List.of("t-child"))).containsExactly("t-child");
  }

  @Test
  void theTimelineTellsEachKeptEventAndFillsWhatTheLogDroppedFromTheStatus() throws Exception {
    start(Dashboard.builder(backend));
    storeTasks();
    Instant now = Instant.now();
    // The log kept only the second attempt: the first retry (at -30 s) and the send are older.
    backend
        .events()
        .publish(
            List.of(
                event(EventType.TASK_RECEIVED, now.minusSeconds(6), "w2", null),
                event(EventType.TASK_STARTED, now.minusSeconds(5), "w2", null)));
    // A long task reports progress many times; the steps after those must still be found.
    List<Event> progress = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      progress.add(event(EventType.TASK_PROGRESS, now.minusSeconds(5), "w2", null));
    }
    backend.events().publish(progress);
    backend
        .events()
        .publish(
            List.of(
                event(
                    EventType.TASK_FAILED,
                    now.minusSeconds(4),
                    "w2",
                    Wire.mapper()
                        .createObjectNode()
                        .put("error", "java.io.IOException: disk full")
                        .put("runtimeMs", 1000)),
                event(EventType.TASK_DEAD_LETTERED, now.minusSeconds(4), "w2", null)));

    JsonNode timeline = send(get("/api/tasks/t-bad")).json().get("timeline");

    assertThat(timeline)
        .extracting(n -> n.get("what").asText() + " " + n.get("source").asText())
        .containsExactly(
            "sent status",
            "retried status",
            "received events",
            "started events",
            "failed events",
            "dead-lettered events");
    assertThat(timeline.get(1).get("error").get("message").asText()).isEqualTo("disk slow");
    assertThat(timeline.get(3).get("worker").asText()).isEqualTo("w2");
    assertThat(timeline.get(4).get("runtimeMs").asInt()).isEqualTo(1000);
  }

  private static Event event(EventType type, Instant at, String worker, ObjectNode data) {
    return new Event(0, type, at, "t-bad", "reports.build", worker, "default", data);
  }

  @Test
  void deadLettersAreListedMaskedRedrivenAndDiscarded() throws Exception {
    start(Dashboard.builder(backend));
    for (String id : List.of("d1", "d2")) {
      backend
          .deadLetters()
          .add(
              new DeadLetter(
                  id,
                  "emails.send",
                  "email",
                  DeadLetterReason.FAILED,
                  new TaskError("X", "boom", null),
                  Wire.mapper().createArrayNode(),
                  Wire.mapper().createObjectNode().put("token", "s3cret"),
                  "{\"id\":\""
                      + id
                      + "\",\"task\":\"emails.send\",\"queue\":\"email\",\"kwargs\":{\"token\":\"s3cret\"}}",
                  3,
                  Instant.now(),
                  Instant.now()));
    }

    JsonNode list = send(get("/api/dead-letters")).json();
    assertThat(list.get("total").asInt()).isEqualTo(2);
    assertThat(list.get("deadLetters").get(0).get("kwargs").get("token").asText())
        .isEqualTo("****");
    assertThat(list.get("deadLetters").get(0).get("body").asText()).doesNotContain("s3cret");

    assertThat(post("/api/dead-letters/d1/discard", null).status()).isEqualTo(200);
    assertThat(post("/api/dead-letters/d1/discard", null).status()).isEqualTo(404);
    assertThat(post("/api/dead-letters/redrive?queue=email", null).json().get("redriven").asInt())
        .isEqualTo(1);
    assertThat(backend.deadLetters().count(null)).isZero();
    assertThat(backend.broker().stats("email").ready()).isEqualTo(1);
    assertThat(post("/api/queues/email/purge", null).status()).as("needs confirm").isEqualTo(400);
    assertThat(post("/api/queues/email/purge?confirm=email", null).json().get("purged").asInt())
        .isEqualTo(1);
  }

  @Test
  void schedulesAreCreatedEditedPausedRunAndDeleted() throws Exception {
    start(Dashboard.builder(backend));

    Reply created =
        post(
            "/api/schedules",
            "{\"name\":\"nightly\",\"task\":\"reports.nightly\",\"trigger\":\"30 2 * * *\",\"zone\":\"Europe/Berlin\",\"kwargs\":{\"apiKey\":\"k\"}}");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().get("kwargs").get("apiKey").asText()).isEqualTo("****");
    assertThat(
            post("/api/schedules", "{\"name\":\"nightly\",\"task\":\"t\",\"trigger\":\"@daily\"}")
                .status())
        .isEqualTo(409);
    assertThat(
            post("/api/schedules", "{\"name\":\"bad\",\"task\":\"t\",\"trigger\":\"61 * * * *\"}")
                .status())
        .isEqualTo(400);
    assertThat(
            post("/api/schedules/nightly", "{\"trigger\":\"every PT15M\"}")
                .json()
                .get("trigger")
                .asText())
        .isEqualTo("every PT15M");
    assertThat(post("/api/schedules/nightly/pause", null).json().get("enabled").asBoolean())
        .isFalse();
    assertThat(post("/api/schedules/nightly/run", null).json().get("taskId").asText()).isNotBlank();
    assertThat(backend.broker().stats("default").ready()).isEqualTo(1);
    assertThat(post("/api/schedules/nightly/resume", null).json().get("enabled").asBoolean())
        .isTrue();
    assertThat(send(get("/api/schedules")).json()).hasSize(1);
    assertThat(post("/api/schedules/nightly/delete", null).status()).isEqualTo(200);
    assertThat(send(get("/api/schedules")).json()).isEmpty();
  }

  @Test
  void actionsNeedTheCsrfToken() throws Exception {
    start(Dashboard.builder(backend));
    storeDeadLetter("d1");

    Reply none =
        send(get("/api/dead-letters/d1/discard").POST(HttpRequest.BodyPublishers.noBody()));
    Reply wrong =
        send(
            get("/api/dead-letters/d1/discard")
                .header("Cookie", "errand_csrf=" + "a".repeat(32))
                .header("X-CSRF-Token", "b".repeat(32))
                .POST(HttpRequest.BodyPublishers.noBody()));

    assertThat(none.status()).isEqualTo(403);
    assertThat(wrong.status()).isEqualTo(403);
    assertThat(none.json().get("error").asText()).contains("CSRF");
    assertThat(backend.deadLetters().count(null)).isEqualTo(1);
    assertThat(send(get("/api/queues")).raw().headers().allValues("Set-Cookie"))
        .anyMatch(c -> c.startsWith("errand_csrf="));
  }

  @Test
  void readOnlyRefusesEveryAction() throws Exception {
    start(Dashboard.builder(backend).readOnly(true));
    storeDeadLetter("d1");

    for (String path :
        List.of(
            "/api/dead-letters/d1/discard",
            "/api/dead-letters/redrive",
            "/api/queues/q/purge?confirm=q",
            "/api/queues/q/pause",
            "/api/queues/q/resume",
            "/api/tasks/x/revoke",
            "/api/workflows/x/revoke",
            "/api/schedules")) {
      Reply r = post(path, "{}");
      assertThat(r.status()).as(path).isEqualTo(403);
      assertThat(r.json().get("error").asText()).contains("read-only");
    }
    assertThat(backend.deadLetters().count(null)).isEqualTo(1);
    assertThat(backend.broker().pausedQueues()).isEmpty();
    assertThat(send(get("/api/overview")).json().get("readOnly").asBoolean()).isTrue();
  }

  @Test
  void queuesArePausedAndResumed() throws Exception {
    start(Dashboard.builder(backend));
    client.send("emails.send", Wire.mapper().createArrayNode());

    JsonNode paused = post("/api/queues/default/pause", null).json();
    assertThat(paused.get("paused").asBoolean()).isTrue();
    assertThat(backend.broker().pausedQueues()).containsExactly("default");
    JsonNode queue = send(get("/api/queues")).json().get(0);
    assertThat(queue.get("queue").asText()).isEqualTo("default");
    assertThat(queue.get("paused").asBoolean()).isTrue();
    assertThat(queue.get("unconsumed").asBoolean()).as("paused on purpose").isFalse();

    assertThat(post("/api/queues/default/resume", null).json().get("paused").asBoolean()).isFalse();
    assertThat(backend.broker().pausedQueues()).isEmpty();
    assertThat(post("/api/queues/%20/pause", null).status())
        .as("no such queue name")
        .isEqualTo(400);
  }

  @Test
  void aTokenIsRequiredAndABearerNeedsNoCsrf() throws Exception {
    String token = "t0ken-t0ken-t0ken-t0ken";
    start(Dashboard.builder(backend).token(token));

    assertThat(send(get("/api/queues")).status()).isEqualTo(401);
    assertThat(
            send(get("/api/queues").header("Authorization", "Bearer wrong-wrong-wrong")).status())
        .isEqualTo(401);
    assertThat(send(get("/api/queues").header("Authorization", "Bearer " + token)).status())
        .isEqualTo(200);
    assertThat(send(get("/metrics")).status()).isEqualTo(401);
    // The token is never a cookie: a browser logs in on the form and gets a session (see
    // DashboardAuthTest); a token set as a cookie by hand admits nothing.
    assertThat(send(get("/api/queues").header("Cookie", "errand_token=" + token)).status())
        .isEqualTo(401);
    Reply bearerPost =
        send(
            get("/api/dead-letters/discard")
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(bearerPost.status()).isEqualTo(200);
  }

  @Test
  void bindingBeyondThisMachineNeedsAuthOrInsecure() {
    assertThatThrownBy(() -> Dashboard.builder(backend).bind("0.0.0.0").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs a token or basic auth");
    Dashboard.builder(backend).bind("0.0.0.0").insecure(true).build();
    Dashboard.builder(backend).bind("0.0.0.0").token("x".repeat(16)).build();
    assertThatThrownBy(() -> Dashboard.builder(backend).token("short")).hasMessageContaining("16");
  }
}
