package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.redis.internal.CeleryBroker;
import dev.errand.redis.testing.MalformedCelery;
import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.Delivery;
import dev.errand.test.MutableClock;
import dev.errand.wire.Wire;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code celery+redis://} backend on a real Redis: the messages are Celery's (checked field by
 * field), kombu's {@code unacked} records what Java holds, leases and etas are kept in Redis, the
 * canvas of a Celery message runs on, and malformed messages go to the dead letters while the
 * worker goes on. Python Celery itself is in errand-cli's {@code CeleryInteropIT}.
 */
class CeleryBackendIT {

  record Pair(long x, long y) {}

  static final TaskDef<Pair, Long> ADD =
      TaskDef.builder("interop.add", Pair.class, Long.class).build();

  static final TaskDef<String, Void> FAIL =
      TaskDef.builder("interop.Fail", String.class, Void.class)
          .options(TaskOptions.builder().retry(dev.errand.RetryPolicy.none()).build())
          .build();

  static final TaskDef<JsonNode, JsonNode> ECHO =
      TaskDef.builder("interop.echo", JsonNode.class, JsonNode.class).build();

  static final TaskDef<Integer, Integer> SLEEP =
      TaskDef.builder("interop.sleep", Integer.class, Integer.class).build();

  static final TaskDef<Integer, Integer> FLAKY =
      TaskDef.builder("interop.flaky", Integer.class, Integer.class).build();

  String prefix;
  String queue;
  CeleryRedisBackend backend;
  Client client;
  Worker worker;
  final AtomicInteger runs = new AtomicInteger();

  @BeforeEach
  void open() {
    prefix = TestRedis.newPrefix();
    queue = prefix + ".tasks";
  }

  void open(java.time.Clock clock, String extra) {
    backend = CeleryRedisBackend.open("celery+" + TestRedis.url(prefix, extra), clock);
    client = Client.create(backend);
  }

  @AfterEach
  void close() {
    if (worker != null) {
      worker.close();
    }
    if (backend != null) {
      backend.close();
    }
    TestRedis.deleteKeys(prefix);
    TestRedis.withRedis(
        r -> {
          for (String k :
              List.of(
                  queue,
                  queue + "\u0006\u00163",
                  queue + "\u0006\u00166",
                  queue + "\u0006\u00169")) {
            r.del(k);
          }
          r.del("_kombu.binding." + queue);
          for (Map.Entry<String, String> e : r.hgetall("unacked").entrySet()) {
            if (e.getValue().contains(queue)) {
              r.hdel("unacked", e.getKey());
              r.zrem("unacked_index", e.getKey());
            }
          }
          // SCAN, not KEYS: the server may be a shared one (ERRAND_TEST_REDIS)
          ScanIterator.scan(r, ScanArgs.Builder.matches("celery-task-meta-*").limit(1000))
              .forEachRemaining(
                  k -> {
                    String v = r.get(k);
                    if (k.startsWith("celery-task-meta-" + prefix)
                        || (v != null && v.contains(queue))) {
                      r.del(k);
                    }
                  });
        });
  }

  void startWorker() {
    worker =
        Worker.builder(backend)
            .handle(
                ADD,
                (p, ctx) -> {
                  runs.incrementAndGet();
                  return p.x() + p.y();
                })
            .handleVoid(
                FAIL,
                (m, ctx) -> {
                  throw new IllegalArgumentException(m);
                })
            .handle(ECHO, (a, ctx) -> a)
            .handle(
                SLEEP,
                (ms, ctx) -> {
                  Thread.sleep(ms);
                  return ms;
                })
            .handle(
                FLAKY,
                (n, ctx) -> {
                  if (ctx.attempt() < n) {
                    throw ctx.retry(
                        new IllegalStateException("attempt " + ctx.attempt()),
                        Duration.ofMillis(300));
                  }
                  return ctx.attempt();
                })
            .options(
                WorkerOptions.builder()
                    .name("w-" + prefix)
                    .queues(queue)
                    .leaseDuration(Duration.ofSeconds(5))
                    .build())
            .build()
            .start();
  }

  List<String> list(String key) {
    return TestRedis.redis(r -> r.lrange(key, 0, -1));
  }

  static JsonNode json(String s) throws Exception {
    return Wire.mapper().readTree(s);
  }

  @Test
  void aJavaClientSendsCeleryMessagesThatAJavaWorkerRuns() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    AsyncResult<JsonNode> sent =
        client.send(
            "interop.add",
            (ArrayNode) json("[2]"),
            (ObjectNode) json("{\"y\": 3}"),
            TaskOptions.builder().queue(queue).build());

    List<String> ready = list(queue);
    assertThat(ready).hasSize(1);
    JsonNode env = json(ready.get(0));
    assertThat(env.get("content-type").asText()).isEqualTo("application/json");
    assertThat(env.at("/headers/task").asText()).isEqualTo("interop.add");
    assertThat(env.at("/headers/id").asText()).isEqualTo(sent.id());
    assertThat(env.at("/properties/delivery_info/routing_key").asText()).isEqualTo(queue);
    assertThat(env.at("/properties/body_encoding").asText()).isEqualTo("base64");
    JsonNode body =
        json(
            new String(
                Base64.getDecoder().decode(env.get("body").asText()), StandardCharsets.UTF_8));
    assertThat(body.size()).isEqualTo(3);
    assertThat(body.get(0).toString()).isEqualTo("[2]");
    assertThat(body.get(1).toString()).isEqualTo("{\"y\":3}");
    assertThat(TestRedis.<java.util.Set<String>>redis(r -> r.smembers("_kombu.binding." + queue)))
        .containsExactly(queue + "\u0006\u0016\u0006\u0016" + queue);

    startWorker();
    assertThat(sent.get(Duration.ofSeconds(30)).asLong()).isEqualTo(5);
    JsonNode meta = json(TestRedis.redis(r -> r.get("celery-task-meta-" + sent.id())));
    assertThat(meta.get("status").asText()).isEqualTo("SUCCESS");
    assertThat(meta.get("result").asLong()).isEqualTo(5);
    assertThat(meta.get("task_id").asText()).isEqualTo(sent.id());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(TestRedis.redis(r -> r.hgetall("unacked")).values())
                  .noneMatch(v -> v.contains(sent.id()));
              assertThat(backend.broker().stats(queue).leased()).isZero();
            });
    assertThat(backend.results().get(sent.id()).orElseThrow().name()).isEqualTo("interop.add");
    assertThat(backend.broker().queues()).contains(queue);

    // a queue only Python declared (kombu's binding) is listed too, by another process
    String pythonQueue = queue + "-py";
    TestRedis.withRedis(
        r ->
            r.sadd(
                "_kombu.binding." + pythonQueue,
                pythonQueue + "\u0006\u0016\u0006\u0016" + pythonQueue));
    try (CeleryRedisBackend other =
        CeleryRedisBackend.open("celery+" + TestRedis.url(prefix, ""))) {
      assertThat(other.broker().queues()).contains(queue, pythonQueue);
    } finally {
      TestRedis.withRedis(r -> r.del("_kombu.binding." + pythonQueue));
    }
  }

  @Test
  void claimsTheMostUrgentListFirstRecordsHoldsInUnackedAndLeasesUntilAcked() throws Exception {
    MutableClock clock = new MutableClock(Instant.now());
    open(clock, "");
    AsyncResult<JsonNode> low =
        client.send(
            "interop.add", json("[0, 0]"), TaskOptions.builder().queue(queue).priority(0).build());
    AsyncResult<JsonNode> normal =
        client.send(
            "interop.add", json("[5, 5]"), TaskOptions.builder().queue(queue).priority(5).build());
    AsyncResult<JsonNode> mid =
        client.send(
            "interop.add", json("[3, 3]"), TaskOptions.builder().queue(queue).priority(3).build());
    assertThat(list(queue + "\u0006\u00169")).hasSize(1);
    assertThat(list(queue + "\u0006\u00163")).hasSize(1);
    assertThat(list(queue)).hasSize(1);
    // Celery's lists 0, 3, 6 and 9, each labelled with the most urgent Errand priority it holds
    assertThat(backend.broker().stats(queue).readyByPriority())
        .isEqualTo(Map.of(5, 1L, 4, 1L, 0, 1L));

    List<Delivery> got =
        backend.broker().claim(List.of(queue), 3, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(got).extracting(Delivery::id).containsExactly(normal.id(), mid.id(), low.id());
    assertThat(got).extracting(Delivery::priority).containsExactly(5, 3, 0);
    Map<String, String> unacked = TestRedis.redis(r -> r.hgetall("unacked"));
    for (Delivery d : got) {
      String entry =
          unacked.values().stream().filter(v -> v.contains(d.id())).findFirst().orElseThrow();
      JsonNode e = json(entry); // kombu's [envelope, exchange, routing_key]
      assertThat(e.get(0).at("/headers/id").asText()).isEqualTo(d.id());
      assertThat(e.get(1).asText()).isEmpty();
      assertThat(e.get(2).asText()).isEqualTo(queue);
    }
    assertThat(backend.broker().ack(got.get(0))).isTrue();
    assertThat(backend.broker().stats(queue).leased()).isEqualTo(2);

    clock.advance(Duration.ofSeconds(31)); // both leases ran out: the next claim takes them back
    List<Delivery> again =
        backend.broker().claim(List.of(queue), 3, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(again).extracting(Delivery::id).containsExactlyInAnyOrder(mid.id(), low.id());
    assertThat(again).allMatch(d -> d.deliveries() == 2);
    assertThat(backend.broker().ack(got.get(1))).as("a stale receipt changes nothing").isFalse();
    assertThat(backend.broker().stats(queue).leased()).isEqualTo(2);
    for (Delivery d : again) {
      assertThat(backend.broker().ack(d)).isTrue();
    }
    assertThat(TestRedis.redis(r -> r.hgetall("unacked")).values())
        .noneMatch(v -> v.contains(queue));
  }

  @Test
  void anEtaWaitsInRedisNotInTheWorkerAndRenewAndReleaseKeepTheirPromises() throws Exception {
    MutableClock clock = new MutableClock(Instant.now());
    open(clock, "");
    AsyncResult<JsonNode> later =
        client.send(
            "interop.add",
            json("[1, 1]"),
            TaskOptions.builder().queue(queue).countdown(Duration.ofSeconds(60)).build());
    assertThat(json(list(queue).get(0)).at("/headers/eta").asText()).endsWith("+00:00");

    assertThat(backend.broker().claim(List.of(queue), 5, Duration.ofSeconds(30), Duration.ZERO))
        .isEmpty();
    assertThat(backend.broker().stats(queue).delayed()).isEqualTo(1);
    assertThat(TestRedis.redis(r -> r.hgetall("unacked")).values())
        .as("held as a Celery worker holds an eta task")
        .anyMatch(v -> v.contains(later.id()));

    clock.advance(Duration.ofSeconds(61));
    List<Delivery> due =
        backend.broker().claim(List.of(queue), 5, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(due).extracting(Delivery::id).containsExactly(later.id());
    assertThat(due.get(0).deliveries())
        .as("waiting for the eta is no failed delivery")
        .isEqualTo(1);

    clock.advance(Duration.ofSeconds(20));
    assertThat(backend.broker().renew(due, Duration.ofSeconds(30))).isEmpty();
    clock.advance(Duration.ofSeconds(20)); // past the first lease, inside the renewed one
    assertThat(backend.broker().claim(List.of(queue), 5, Duration.ofSeconds(30), Duration.ZERO))
        .isEmpty();
    assertThat(backend.broker().release(due.get(0))).isTrue();
    List<Delivery> back =
        backend.broker().claim(List.of(queue), 5, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(back).extracting(Delivery::id).containsExactly(later.id());
    assertThat(back.get(0).deliveries()).as("a release takes the delivery back").isEqualTo(1);
    assertThat(backend.broker().renew(due, Duration.ofSeconds(30))).containsExactly(later.id());
    assertThat(backend.broker().ack(back.get(0))).isTrue();
  }

  Map<String, String> malformed() {
    return MalformedCelery.messages(prefix, queue);
  }

  String env(String id, String contentType, String body, String headers) {
    return MalformedCelery.envelope(prefix, queue, id, contentType, body, headers);
  }

  String headers(String id, String extra) {
    return MalformedCelery.headers(prefix, id, extra);
  }

  static String b64(String s) {
    return MalformedCelery.b64(s);
  }

  @Test
  void malformedMessagesGoToTheDeadLettersWithWhyAndTheWorkerGoesOn() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    Map<String, String> bad = malformed();
    assertThat(bad).hasSize(24);
    TestRedis.withRedis(r -> bad.keySet().forEach(raw -> r.lpush(queue, raw)));
    startWorker();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> backend.deadLetters().count(queue) == bad.size());
    List<DeadLetter> dead = backend.deadLetters().list(queue, 0, 100);
    List<String> reasons = new ArrayList<>();
    for (DeadLetter d : dead) {
      reasons.add(d.error().message());
    }
    for (String expected : bad.values()) {
      assertThat(reasons)
          .as("a dead letter saying: " + expected)
          .anyMatch(r -> r != null && r.contains(expected));
    }
    assertThat(dead).filteredOn(d -> d.reason() == DeadLetterReason.UNKNOWN_TASK).hasSize(1);
    assertThat(dead).filteredOn(d -> d.reason() == DeadLetterReason.INVALID_ARGUMENTS).hasSize(1);
    assertThat(dead).filteredOn(d -> d.body().contains("python-serialize")).hasSize(1);

    // where an id was readable, a Celery client waiting on it is told
    JsonNode pickle = json(TestRedis.redis(r -> r.get("celery-task-meta-" + prefix + "-m09")));
    assertThat(pickle.get("status").asText()).isEqualTo("FAILURE");
    assertThat(pickle.at("/result/exc_type").asText()).isEqualTo("MalformedCeleryMessage");
    JsonNode unknown = json(TestRedis.redis(r -> r.get("celery-task-meta-" + prefix + "-m23")));
    assertThat(unknown.at("/result/exc_type").asText()).isEqualTo("NotRegistered");
    assertThat(unknown.at("/result/exc_module").asText()).isEqualTo("celery.exceptions");

    AsyncResult<JsonNode> good =
        client.send("interop.add", json("[20, 22]"), TaskOptions.builder().queue(queue).build());
    assertThat(good.get(Duration.ofSeconds(30)).asLong()).isEqualTo(42);
    assertThat(worker.isConsuming()).isTrue();

    // a dead letter keeps the Celery envelope, and a re-drive sends it back as it was
    DeadLetter unknownTask = backend.deadLetters().get(prefix + "-m23").orElseThrow();
    assertThat(json(unknownTask.body()).at("/headers/task").asText()).isEqualTo("no.such.Task");
    backend.broker().pause(queue); // so the re-driven message is seen in its list first
    assertThat(client.deadLetters().redrive(prefix + "-m23")).isTrue();
    assertThat(list(queue)).hasSize(1);
    assertThat(json(list(queue).get(0)).at("/headers/id").asText()).isEqualTo(prefix + "-m23");
    backend.broker().resume(queue);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> backend.deadLetters().get(prefix + "-m23").isPresent() && list(queue).isEmpty());
    assertThat(backend.deadLetters().count(queue)).isEqualTo(bad.size());
    assertThat(list(queue)).isEmpty();
    assertThat(TestRedis.redis(r -> r.hgetall("unacked")).values())
        .noneMatch(v -> v.contains(queue));
    assertThat(TestRedis.<Long>redis(r -> r.hlen(prefix + ":celery:held"))).isZero();
  }

  @Test
  void theCanvasOfACeleryMessageRunsOnChainsCallbacksAndErrbacks() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    String q = queue;
    String c1 = prefix + "-c1";
    String c2 = prefix + "-c2";
    String l1 = prefix + "-l1";
    // add(1, 2) | add(10) | add(100), with link=add(1000): chain reversed, as Celery sends it
    String embed =
        "{\"callbacks\": [{\"task\": \"interop.add\", \"args\": [1000], \"kwargs\": {}, \"options\": {\"task_id\": \""
            + l1
            + "\", \"queue\": \""
            + q
            + "\"}, \"subtask_type\": null, \"immutable\": false}],"
            + " \"errbacks\": null, \"chain\": ["
            + "{\"task\": \"interop.add\", \"args\": [100], \"kwargs\": {}, \"options\": {\"task_id\": \""
            + c2
            + "\", \"queue\": \""
            + q
            + "\"}, \"subtask_type\": null, \"immutable\": false},"
            + "{\"task\": \"interop.add\", \"args\": [10], \"kwargs\": {}, \"options\": {\"task_id\": \""
            + c1
            + "\", \"queue\": \""
            + q
            + "\"}, \"subtask_type\": null, \"immutable\": false}"
            + "], \"chord\": null}";
    TestRedis.withRedis(
        r -> r.lpush(q, env("first", null, b64("[[1, 2], {}, " + embed + "]"), null)));
    // fail("no") | add(1) with link_error=echo(): the errback gets the failed id, the chain fails
    String f = prefix + "-f";
    String e1 = prefix + "-e1";
    String c3 = prefix + "-c3";
    String failEmbed =
        "{\"callbacks\": null, \"errbacks\": [{\"task\": \"interop.echo\", \"args\": [], \"kwargs\": {}, \"options\": {\"task_id\": \""
            + e1
            + "\", \"queue\": \""
            + q
            + "\"}, \"subtask_type\": null, \"immutable\": false}],"
            + " \"chain\": [{\"task\": \"interop.add\", \"args\": [1], \"kwargs\": {}, \"options\": {\"task_id\": \""
            + c3
            + "\", \"queue\": \""
            + q
            + "\"}, \"subtask_type\": null, \"immutable\": false}], \"chord\": null}";
    TestRedis.withRedis(
        r ->
            r.lpush(
                q,
                env(
                    "f",
                    null,
                    b64("[[\"no\"], {}, " + failEmbed + "]"),
                    headers("f", "\"task\": \"interop.Fail\"")
                        .replace(prefix + "-f\"", f + "\""))));
    startWorker();

    assertThat(client.result(c2).get(Duration.ofSeconds(30)).asLong()).isEqualTo(113);
    assertThat(client.result(c1).get(Duration.ofSeconds(30)).asLong()).isEqualTo(13);
    assertThat(client.result(l1).get(Duration.ofSeconds(30)).asLong()).isEqualTo(1003);
    JsonNode first = json(TestRedis.redis(r -> r.get("celery-task-meta-" + prefix + "-first")));
    assertThat(first.get("children").toString()).contains(l1).contains(c1);
    JsonNode next = json(TestRedis.redis(r -> r.get("celery-task-meta-" + c1)));
    assertThat(next.get("parent_id").asText()).isEqualTo(prefix + "-first");

    assertThat(client.result(e1).get(Duration.ofSeconds(30)).toString())
        .isEqualTo("[\"" + f + "\"]");
    TaskStatus chained =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> backend.results().get(c3).orElse(null),
                s -> s != null && s.state() == TaskState.FAILURE);
    assertThat(chained.error().type()).isEqualTo("java.lang.IllegalArgumentException");
    assertThat(runs.get()).as("four adds ran; add(1) after the failure did not").isEqualTo(4);
  }

  @Test
  void aCeleryChordMemberOnAnErrandWorkerFailsTheChordBodyAtOnce() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    String body = prefix + "-chord-body";
    String embed =
        "{\"callbacks\": null, \"errbacks\": null, \"chain\": null, \"chord\": {\"task\":"
            + " \"proj.tsum\", \"args\": [], \"kwargs\": {}, \"options\": {\"task_id\": \""
            + body
            + "\"}, \"subtask_type\": null, \"immutable\": false}}";
    TestRedis.withRedis(
        r ->
            r.lpush(
                queue,
                env(
                    "member",
                    null,
                    b64("[[1, 1], {}, " + embed + "]"),
                    headers("member", "\"group\": \"g1\", \"group_index\": 0"))));
    startWorker();
    assertThat(client.result(prefix + "-member").get(Duration.ofSeconds(30)).asLong()).isEqualTo(2);
    String record =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> TestRedis.<String>redis(r -> r.get("celery-task-meta-" + body)),
                v -> v != null);
    JsonNode chord = json(record);
    assertThat(chord.get("status").asText()).isEqualTo("FAILURE");
    assertThat(chord.at("/result/exc_type").asText()).isEqualTo("ChordError");
    assertThat(chord.at("/result/exc_module").asText()).isEqualTo("celery.exceptions");
  }

  @Test
  void aRetryIsTheSameIdSentAgainWithRetriesAndAnEta() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    startWorker();
    AsyncResult<JsonNode> flaky =
        client.send("interop.flaky", json("[3]"), TaskOptions.builder().queue(queue).build());
    assertThat(flaky.get(Duration.ofSeconds(30)).asInt()).isEqualTo(3);
    JsonNode meta = json(TestRedis.redis(r -> r.get("celery-task-meta-" + flaky.id())));
    assertThat(meta.get("retries").asInt()).isEqualTo(2);
    assertThat(backend.results().get(flaky.id()).orElseThrow().retries()).hasSize(2);
  }

  @Test
  void withTrackStartedARunningTaskIsStartedForCeleryClients() throws Exception {
    open(java.time.Clock.systemUTC(), "&track_started=true");
    startWorker();
    AsyncResult<JsonNode> slow =
        client.send("interop.sleep", json("[1500]"), TaskOptions.builder().queue(queue).build());
    String started =
        await()
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(5))
            .until(
                () -> TestRedis.<String>redis(r -> r.get("celery-task-meta-" + slow.id())),
                v -> v != null && v.contains("\"STARTED\""));
    JsonNode meta = json(started);
    assertThat(meta.at("/result/pid").asLong()).isEqualTo(ProcessHandle.current().pid());
    assertThat(meta.at("/result/hostname").asText()).isEqualTo("w-" + prefix);
    assertThat(meta.get("date_done").isNull()).isTrue();
    assertThat(slow.get(Duration.ofSeconds(30)).asInt()).isEqualTo(1500);
  }

  @Test
  void withoutTrackStartedNoStartedRecordIsWrittenAsInCelery() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    Instant now = Instant.now();
    String id = prefix + "-started";
    backend
        .results()
        .put(
            new TaskStatus(
                id,
                "x",
                TaskState.STARTED,
                queue,
                null,
                null,
                null,
                null,
                1,
                "w",
                null,
                now,
                null,
                null,
                now),
            Duration.ofMinutes(5));
    assertThat(TestRedis.<String>redis(r -> r.get("celery-task-meta-" + id))).isNull();
    assertThat(backend.results().get(id).orElseThrow().state()).isEqualTo(TaskState.STARTED);
  }

  @Test
  void aSuccessRecordIsNeverOverwritten() throws Exception {
    open(java.time.Clock.systemUTC(), "");
    String id = prefix + "-done";
    Instant now = Instant.now();
    backend
        .results()
        .put(
            new TaskStatus(
                id,
                "x",
                TaskState.SUCCESS,
                queue,
                json("1"),
                null,
                null,
                null,
                1,
                "w",
                null,
                null,
                now,
                null,
                now),
            Duration.ofMinutes(5));
    backend
        .results()
        .put(
            new TaskStatus(
                id,
                "x",
                TaskState.FAILURE,
                queue,
                null,
                dev.errand.TaskError.of("Late", "late"),
                null,
                null,
                1,
                "w",
                null,
                null,
                now,
                null,
                now),
            Duration.ofMinutes(5));
    assertThat(json(TestRedis.redis(r -> r.get("celery-task-meta-" + id))).get("status").asText())
        .isEqualTo("SUCCESS");
  }

  @Test
  void whatAKilledCeleryWorkerHeldIsRestoredAfterTheVisibilityTimeout() throws Exception {
    open(java.time.Clock.systemUTC(), "&visibility_timeout=5s");
    String tag = prefix + "-abandoned";
    String envelope = env("abandoned", null, b64("[[4, 4], {}, null]"), null);
    double old = Instant.now().minusSeconds(60).toEpochMilli() / 1000.0;
    TestRedis.withRedis(
        r -> {
          r.hset("unacked", tag, "[" + envelope + ", \"\", \"" + queue + "\"]");
          r.zadd("unacked_index", old, tag);
        });
    assertThat(((CeleryBroker) backend.broker()).restoreAbandoned()).isGreaterThanOrEqualTo(1);
    List<String> ready = list(queue);
    assertThat(ready).hasSize(1);
    JsonNode back = json(ready.get(0));
    assertThat(back.at("/headers/redelivered").asBoolean()).isTrue();
    assertThat(back.at("/properties/delivery_info/redelivered").asBoolean()).isTrue();
    assertThat(TestRedis.<Boolean>redis(r -> r.hexists("unacked", tag))).isFalse();
    startWorker();
    assertThat(client.result(prefix + "-abandoned").get(Duration.ofSeconds(30)).asLong())
        .isEqualTo(8);
  }
}
