package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskFailedException;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.redis.CeleryRedisBackend;
import dev.errand.redis.testing.MalformedCelery;
import dev.errand.redis.testing.RedisServerProcess;
import dev.errand.redis.testing.TestRedis;
import dev.errand.wire.Wire;
import dev.errand.workflow.Signature;
import dev.errand.workflow.Workflows;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;

/**
 * Errand and a real Python Celery (Debian's python3-celery 5.2, run as {@code python3 -m celery})
 * on one Redis, both directions: stock Celery clients calling tasks an {@code errand worker} runs,
 * an Errand client calling tasks a Celery worker runs, both fleets on one queue, workers of either
 * kind SIGKILLed mid-task, malformed messages, and chains and callbacks that cross languages. The
 * Python side is {@code src/test/resources/celery/} ({@code interop.py}, the app; {@code
 * interop_client.py}, the client scenarios).
 *
 * <p>Needs python3 with celery and redis. Without them the tests are aborted (reported as skipped,
 * with the reason) unless {@code ERRAND_REQUIRE_CELERY} is set, which {@code .ci/run} does after
 * installing them: there, a missing Celery fails the build. Each run has a private Redis server of
 * its own (Celery workers restore and broadcast database-wide).
 */
class CeleryInteropIT {

  static final String PYTHON = "/usr/bin/python3";

  static RedisServerProcess redis;
  static RedisClient lettuce;
  static StatefulRedisConnection<String, String> connection;
  static RedisCommands<String, String> r;

  @TempDir Path dir;
  Path celeryDir;
  Path log;
  String redisUrl;
  String brokerUrl;
  CeleryRedisBackend backend;
  Client client;
  final List<Process> processes = new ArrayList<>();

  @RegisterExtension
  final TestExecutionExceptionHandler printOutputs = ErrandProcess.printOutputsOnFailure(() -> dir);

  @BeforeAll
  static void startRedis() throws Exception {
    requireCelery();
    redis = TestRedis.startPrivate();
    lettuce = RedisClient.create(redis.url());
    connection = lettuce.connect();
    r = connection.sync();
  }

  @AfterAll
  static void stopRedis() {
    if (connection != null) {
      connection.close();
      lettuce.shutdown();
    }
    if (redis != null) {
      redis.close();
    }
  }

  static void requireCelery() throws Exception {
    Process p =
        new ProcessBuilder(PYTHON, "-c", "import celery, redis; print(celery.__version__)")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    boolean ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    String why =
        "Python Celery is not installed ("
            + PYTHON
            + " said: "
            + out
            + "); apt-get install python3-celery python3-redis";
    if (!ok && System.getenv("ERRAND_REQUIRE_CELERY") != null) {
      throw new AssertionError(why + " (ERRAND_REQUIRE_CELERY is set)");
    }
    Assumptions.assumeTrue(ok, why);
  }

  @BeforeEach
  void open() throws IOException, URISyntaxException {
    r.flushall(); // our own server
    celeryDir = dir.resolve("celery");
    Files.createDirectories(celeryDir);
    for (String f : List.of("interop.py", "interop_client.py")) {
      Files.copy(
          Path.of(CeleryInteropIT.class.getResource("/celery/" + f).toURI()), celeryDir.resolve(f));
    }
    log = dir.resolve("runs.log");
    Files.writeString(log, "");
    redisUrl = redis.url();
    brokerUrl = "celery+" + redisUrl + "?visibility_timeout=5s";
    backend = CeleryRedisBackend.open(brokerUrl);
    client = Client.create(backend);
  }

  @AfterEach
  void close() throws InterruptedException {
    for (Process p : processes) {
      kill(p);
    }
    if (backend != null) {
      backend.close();
    }
  }

  static void kill(Process p) throws InterruptedException {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  /** An {@code errand worker} on the Celery queues, running {@link CeleryItApp}. */
  Process javaWorker(String name, String queues, String... extra) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "worker",
                "--no-supervisor",
                "--app",
                CeleryItApp.class.getName(),
                "--broker",
                brokerUrl,
                "--name",
                name,
                "-Q",
                queues));
    args.addAll(List.of(extra));
    Process p = ErrandProcess.start(dir, name, args, Map.of("ERRAND_CELERY_LOG", log.toString()));
    processes.add(p);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> output(name).contains("consuming") || !p.isAlive());
    assertThat(p.isAlive()).as(output(name)).isTrue();
    return p;
  }

  /** A stock Celery worker running {@code interop.py}. */
  Process pythonWorker(String name, String queues, String pool, int concurrency)
      throws IOException {
    ProcessBuilder b =
        new ProcessBuilder(
                PYTHON,
                "-m",
                "celery",
                "-A",
                "interop",
                "worker",
                "-Q",
                queues,
                "-P",
                pool,
                "-c",
                Integer.toString(concurrency),
                "-n",
                name + "@%h",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info")
            .directory(celeryDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".out").toFile());
    b.environment().putAll(pythonEnv());
    Process p = b.start();
    processes.add(p);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> output(name).contains("ready.") || !p.isAlive());
    assertThat(p.isAlive()).as(output(name)).isTrue();
    return p;
  }

  Map<String, String> pythonEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("PYTHONPATH", celeryDir.toString());
    env.put("ERRAND_CELERY_BROKER", redisUrl);
    env.put("ERRAND_CELERY_LOG", log.toString());
    env.put("ERRAND_CELERY_VT", "5");
    return env;
  }

  /** Runs one scenario of {@code interop_client.py}; its JSON. */
  JsonNode python(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, "interop_client.py"));
    cmd.addAll(Arrays.asList(args));
    String name = "client-" + args[0] + "-" + System.nanoTime();
    ProcessBuilder b =
        new ProcessBuilder(cmd)
            .directory(celeryDir.toFile())
            .redirectError(dir.resolve(name + ".out").toFile());
    b.environment().putAll(pythonEnv());
    Process p = b.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s %s", name, out, output(name)).isZero();
    return Wire.mapper().readTree(out);
  }

  String output(String name) throws IOException {
    Path f = dir.resolve(name + ".out");
    return Files.exists(f) ? Files.readString(f) : "";
  }

  List<String> runs() throws IOException {
    return Files.readAllLines(log);
  }

  static long count(List<String> lines, String line) {
    return lines.stream().filter(line::equals).count();
  }

  @Test
  void stockCeleryClientsCallTasksAnErrandWorkerRuns() throws Exception {
    javaWorker("java-1", "celery");
    JsonNode out = python("python-to-java");

    assertThat(out.get("add").asLong()).isEqualTo(5);
    assertThat(out.get("add_kwargs").asLong()).isEqualTo(9);
    assertThat(out.get("add_mixed").asLong()).isEqualTo(13);
    assertThat(out.get("camel_case_name").asLong()).isEqualTo(42);
    assertThat(out.get("unicode").toString())
        .isEqualTo("[\"h\u00e9llo \u2603\",{\"n\":[1,2.5,null,true]}]");
    // Python raises an exception named after the Java class, with its message and stack trace
    assertThat(out.get("fail").toString())
        .isEqualTo(
            "{\"module\":\"celery.exceptions\",\"type\":\"IllegalArgumentException\","
                + "\"args\":[\"java says no\"]}");
    assertThat(out.get("fail_state").asText()).isEqualTo("FAILURE");
    assertThat(out.get("fail_traceback").asText())
        .startsWith("java.lang.IllegalArgumentException: java says no")
        .contains("at dev.errand.cli.CeleryItApp");
    // retries with countdown: RETRY states with the error, then the result
    assertThat(out.get("flaky").asInt()).isEqualTo(3);
    List<String> flakyStates = new ArrayList<>();
    out.get("flaky_states")
        .forEach(s -> flakyStates.add(s.get(0).asText() + " " + s.get(1).asText()));
    assertThat(flakyStates)
        .contains(
            "RETRY IllegalStateException('attempt 1')", "RETRY IllegalStateException('attempt 2')");
    // PROGRESS with its meta, then the result
    assertThat(out.get("progress").asInt()).isEqualTo(10);
    List<JsonNode> progress = new ArrayList<>();
    out.get("progress_states").forEach(progress::add);
    assertThat(progress)
        .anyMatch(
            s -> s.get(0).asText().equals("PROGRESS") && s.get(1).path("total").asInt() == 10);
    // eta from countdown: not before
    assertThat(out.get("countdown").asInt()).isEqualTo(2);
    assertThat(out.get("countdown_seconds").asDouble()).isGreaterThanOrEqualTo(1.9);
    assertThat(out.get("expired").asText())
        .isEqualTo("!celery.exceptions.TaskRevokedError: expired");
    assertThat(out.get("low_priority").asInt()).isEqualTo(3);
    assertThat(out.get("unknown").asText())
        .isEqualTo("!celery.exceptions.NotRegistered: 'interop.no_such_task'");

    // errand inspect shows the Celery queue, and the tasks the Java worker ran
    Process inspect =
        ErrandProcess.start(
            dir, "inspect", List.of("inspect", "queues", "--broker", brokerUrl, "--json"));
    assertThat(inspect.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(output("inspect")).contains("\"celery\"");
    assertThat(
            backend
                .results()
                .search(dev.errand.spi.TaskQuery.builder().name("interop.add").build())
                .tasks())
        .isNotEmpty();
  }

  @Test
  void anErrandClientCallsTasksACeleryWorkerRuns() throws Exception {
    // sent before any worker runs: the Celery worker takes the most urgent list first
    for (int[] nAndPriority : new int[][] {{1, 0}, {2, 5}, {3, 3}}) {
      client.send(
          "interop.slow",
          Wire.mapper().readTree("[" + nAndPriority[0] + ", 10]"),
          TaskOptions.builder().queue("py").priority(nAndPriority[1]).build());
    }
    pythonWorker("py-1", "py", "prefork", 1);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> runs().stream().filter(l -> l.startsWith("done")).count() == 3);
    assertThat(runs().stream().filter(l -> l.startsWith("start")))
        .containsExactly("start 2 py", "start 3 py", "start 1 py");

    TaskOptions py = TaskOptions.builder().queue("py").build();
    assertThat(
            client.send("interop.py_mul", json("[6, 7]"), py).get(Duration.ofSeconds(60)).asLong())
        .isEqualTo(42);
    assertThat(
            client
                .send(
                    "interop.py_echo",
                    (ArrayNode) json("[1, \"\u00e9\"]"),
                    (com.fasterxml.jackson.databind.node.ObjectNode) json("{\"k\": [true]}"),
                    py)
                .get(Duration.ofSeconds(60))
                .toString())
        .isEqualTo("{\"args\":[1,\"\u00e9\"],\"kwargs\":{\"k\":[true]}}");

    AsyncResult<JsonNode> failed = client.send("interop.py_fail", json("[\"boom\"]"), py);
    assertThatThrownBy(() -> failed.get(Duration.ofSeconds(60)))
        .isInstanceOf(TaskFailedException.class);
    TaskStatus f = failed.status();
    assertThat(f.state()).isEqualTo(TaskState.FAILURE);
    assertThat(f.error().type()).isEqualTo("builtins.ValueError");
    assertThat(f.error().message()).isEqualTo("[\"boom\",42]");
    assertThat(f.error().traceback()).contains("ValueError: ('boom', 42)");

    AsyncResult<JsonNode> flaky = client.send("interop.py_flaky", json("[3]"), py);
    assertThat(flaky.get(Duration.ofSeconds(60)).asInt()).isEqualTo(3);

    AsyncResult<JsonNode> progress = client.send("interop.py_progress", json("[20]"), py);
    JsonNode seen =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(10))
            .until(
                () -> progress.status().progress(),
                p -> p != null && p.path("total").asInt() == 20);
    assertThat(seen.path("current").asInt()).isBetween(0, 19);
    assertThat(progress.get(Duration.ofSeconds(60)).asInt()).isEqualTo(20);

    long start = System.nanoTime();
    AsyncResult<JsonNode> later =
        client.send(
            "interop.py_mul",
            json("[2, 2]"),
            TaskOptions.builder().queue("py").countdown(Duration.ofSeconds(2)).build());
    assertThat(later.get(Duration.ofSeconds(60)).asInt()).isEqualTo(4);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(1900));

    // time limits travel in the headers: Celery's prefork pool enforces the soft one
    AsyncResult<JsonNode> limited =
        client.send(
            "interop.slow",
            json("[9, 3000]"),
            TaskOptions.builder().queue("py").softTimeLimit(Duration.ofSeconds(1)).build());
    assertThatThrownBy(() -> limited.get(Duration.ofSeconds(60)))
        .isInstanceOf(TaskFailedException.class);
    assertThat(limited.status().error().type())
        .isEqualTo("billiard.exceptions.SoftTimeLimitExceeded");

    // expires travels in its header: behind a busy worker, the task expires unrun
    client.send("interop.slow", json("[10, 2500]"), py);
    AsyncResult<JsonNode> expiring =
        client.send(
            "interop.py_mul",
            json("[5, 5]"),
            TaskOptions.builder().queue("py").expires(Duration.ofSeconds(1)).build());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> expiring.status().state() == TaskState.REVOKED);
    assertThat(expiring.status().reason()).isEqualTo("expired");

    // a revoke reaches Celery workers (its remote-control broadcast)
    AsyncResult<JsonNode> revoked =
        client.send(
            "interop.py_mul",
            json("[3, 3]"),
            TaskOptions.builder().queue("py").countdown(Duration.ofSeconds(3)).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> output("py-1").contains(revoked.id()));
    assertThat(client.revoke(revoked.id())).isTrue();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> revoked.status().state() == TaskState.REVOKED);
  }

  @Test
  void javaAndPythonWorkersShareOneQueueAndEachTaskRunsOnce() throws Exception {
    javaWorker("java-m", "mixed", "-c", "4");
    pythonWorker("py-m", "mixed", "prefork", 2);
    JsonNode pyIds = python("send-adds", "150", "1000", "mixed");
    List<AsyncResult<JsonNode>> fromJava = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      fromJava.add(
          client.send(
              "interop.add",
              json("[" + (2000 + i) + ", 0]"),
              TaskOptions.builder().queue("mixed").build()));
    }
    List<String> ids = new ArrayList<>();
    pyIds.forEach(id -> ids.add(id.asText()));
    List<String> waitArgs = new ArrayList<>(List.of("wait"));
    waitArgs.addAll(ids);
    JsonNode pyResults = python(waitArgs.toArray(String[]::new));
    for (int i = 0; i < 150; i++) {
      assertThat(pyResults.get(ids.get(i)).asLong()).isEqualTo(1000 + i);
      assertThat(fromJava.get(i).get(Duration.ofSeconds(60)).asLong()).isEqualTo(2000 + i);
    }
    List<String> runs = runs();
    for (int x : List.of(1000, 1149, 2000, 2149)) {
      assertThat(
              runs.stream()
                  .filter(l -> l.equals("add " + x + " 0 java") || l.equals("add " + x + " 0 py")))
          .as("add %d ran once", x)
          .hasSize(1);
    }
    assertThat(runs).hasSize(300);
    assertThat(runs).anyMatch(l -> l.endsWith(" java")).anyMatch(l -> l.endsWith(" py"));
    assertThat(r.hlen("unacked")).isZero();
  }

  @Test
  void anErrandWorkerKilledMidTaskLosesNothing() throws Exception {
    Process a = javaWorker("java-a", "celery", "-c", "2", "--prefetch", "0", "--lease", "3s");
    JsonNode ids = python("send-slow", "6", "1500", "celery");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> runs().stream().anyMatch(l -> l.startsWith("start")));
    kill(a); // SIGKILL: no shutdown, no ack, no release
    javaWorker("java-b", "celery", "-c", "2", "--lease", "3s");

    List<String> waitArgs = new ArrayList<>(List.of("wait"));
    ids.forEach(id -> waitArgs.add(id.asText()));
    JsonNode results = python(waitArgs.toArray(String[]::new));
    for (int i = 0; i < 6; i++) {
      assertThat(results.get(ids.get(i).asText()).asInt()).isEqualTo(i);
    }
    List<String> runs = runs();
    for (int i = 0; i < 6; i++) {
      assertThat(count(runs, "done " + i + " java")).as("%s", runs).isEqualTo(1);
    }
    assertThat(runs.stream().filter(l -> l.startsWith("start")).count())
        .as("the tasks the killed worker had started ran again: %s", runs)
        .isGreaterThan(6);
    await().atMost(Duration.ofSeconds(10)).until(() -> r.hlen("unacked") == 0);
  }

  @Test
  void aCeleryWorkerKilledMidTaskIsRecoveredByAnErrandWorker() throws Exception {
    Process py = pythonWorker("py-k", "celery", "prefork", 1);
    JsonNode ids = python("send-slow", "2", "4000", "celery");
    await().atMost(Duration.ofSeconds(60)).until(() -> runs().contains("start 0 py"));
    kill(py); // its held messages stay in kombu's unacked hash
    assertThat(r.hlen("unacked")).isPositive();
    javaWorker("java-r", "celery"); // restores them after the visibility timeout (5 s here)

    List<String> waitArgs = new ArrayList<>(List.of("wait"));
    ids.forEach(id -> waitArgs.add(id.asText()));
    JsonNode results = python(waitArgs.toArray(String[]::new));
    assertThat(results.get(ids.get(0).asText()).asInt()).isZero();
    assertThat(results.get(ids.get(1).asText()).asInt()).isEqualTo(1);
    assertThat(runs()).contains("done 0 java", "done 1 java").doesNotContain("done 0 py");
    assertThat(output("java-r")).contains("restored");
  }

  @Test
  void malformedMessagesGoToTheDeadLettersAndTheErrandWorkerGoesOn() throws Exception {
    javaWorker("java-d", "celery");
    Map<String, String> bad = MalformedCelery.messages("bad", "celery");
    for (String raw : bad.keySet()) {
      r.lpush("celery", raw);
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> backend.deadLetters().count("celery") == bad.size());
    JsonNode out = python("wait", "bad-m09", "bad-m13", "bad-m23");
    assertThat(out.get("bad-m09").asText())
        .startsWith("!celery.exceptions.MalformedCeleryMessage: content type");
    assertThat(out.get("bad-m13").asText()).contains("the body must be the JSON array");
    assertThat(out.get("bad-m23").asText()).startsWith("!celery.exceptions.NotRegistered");

    Process dlq =
        ErrandProcess.start(
            dir,
            "dlq",
            List.of("dlq", "list", "--broker", brokerUrl, "--queue", "celery", "--json"));
    assertThat(dlq.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Matcher m = Pattern.compile("\"reason\"").matcher(output("dlq"));
    int n = 0;
    while (m.find()) {
      n++;
    }
    assertThat(n).as(output("dlq")).isEqualTo(bad.size());

    JsonNode after = python("send-adds", "1", "40", "celery");
    JsonNode done = python("wait", after.get(0).asText());
    assertThat(done.get(after.get(0).asText()).asInt()).isEqualTo(40);
    assertThat(r.llen("celery")).isZero();
    assertThat(r.hlen("unacked")).isZero();
  }

  @Test
  void chainsAndCallbacksCrossLanguages() throws Exception {
    pythonWorker("py-c", "py", "solo", 1);
    javaWorker("java-c", "java");
    JsonNode out = python("chain");
    // py_mul(2, 3) on Python, JavaMul(6, 7) on Java, py_mul(42, 10) on Python
    assertThat(out.get("chain_parent").asInt()).isEqualTo(42);
    assertThat(out.get("chain").asInt()).isEqualTo(420);
    // add(1, 2) on Java, linked to py_mul(3, 100) on Python, listed in the Java task's children
    assertThat(out.get("linked_first").asInt()).isEqualTo(3);
    assertThat(out.get("linked_children")).hasSize(1);
    assertThat(out.get("linked").asInt()).isEqualTo(300);

    // the same chain built in Java travels as Celery's canvas, so the Python steps go on too
    TaskOptions py = TaskOptions.builder().queue("py").build();
    TaskOptions java = TaskOptions.builder().queue("java").build();
    AsyncResult<Object> chain =
        client.send(
            Workflows.chain(
                Signature.byName("interop.py_mul", json("[2, 3]")).options(py),
                Signature.byName("interop.JavaMul", json("[7]")).options(java),
                Signature.byName("interop.py_mul", json("[10]")).options(py)));
    assertThat(String.valueOf(chain.get(Duration.ofSeconds(60)))).isEqualTo("420");
    AsyncResult<Object> linked =
        client.send(
            Workflows.chain(
                Signature.byName("interop.add", json("[1, 2]"))
                    .options(java)
                    .link(Signature.byName("interop.py_mul", json("[100]")).options(py))));
    assertThat(String.valueOf(linked.get(Duration.ofSeconds(60)))).isEqualTo("3");
    JsonNode meta = json(r.get("celery-task-meta-" + linked.id()));
    String child = meta.get("children").get(0).get(0).get(0).asText();
    assertThat(client.result(child).get(Duration.ofSeconds(60)).asInt()).isEqualTo(300);
  }

  static JsonNode json(String s) throws IOException {
    return Wire.mapper().readTree(s);
  }
}
