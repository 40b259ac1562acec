package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Backends;
import dev.errand.RetryPolicy;
import dev.errand.TaskOptions;
import dev.errand.cli.internal.ErrandCommand;
import dev.errand.scheduler.Schedule;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line, run in-process against a named in-memory backend this test keeps open. */
class CliTest {

  String url;
  Backend held;
  final List<Worker> workers = new ArrayList<>();

  record Run(int code, String out, String err) {}

  @BeforeEach
  void open() {
    url = "memory:cli-" + System.nanoTime();
    held = Backends.open(url); // keeps the named backend alive between commands
  }

  @AfterEach
  void close() {
    workers.forEach(w -> w.shutdown(Duration.ofSeconds(2)));
    held.close();
  }

  Run errand(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  void startWorker() {
    TaskRegistry tasks = new TaskRegistry();
    new SampleApp().register(tasks);
    workers.add(
        Worker.builder(held)
            .tasks(tasks)
            .options(
                WorkerOptions.builder().concurrency(2).pollInterval(Duration.ofMillis(50)).build())
            .build()
            .start());
  }

  @Test
  void callPrintsTheIdAndResultPrintsTheOutcome() {
    startWorker();
    Run call = errand("call", "math.add", "--args", "[40, 2]", "--broker", url);
    assertThat(call.code()).as(call.err()).isZero();
    String id = call.out().trim();

    Run result = errand("result", id, "--wait", "10s", "--broker", url);
    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out()).contains("SUCCESS").contains("result:   42");

    Run json = errand("result", id, "--json", "--broker", url);
    JsonNode tree = readJson(json.out());
    assertThat(tree.get("state").asText()).isEqualTo("SUCCESS");
    assertThat(tree.get("result").asInt()).isEqualTo(42);
  }

  @Test
  void failedTaskShowsErrorAndTracebackAndExitsOne() {
    startWorker();
    String id =
        dev.errand.Client.create(held)
            .enqueue(
                SampleApp.FAIL,
                new SampleApp.Add(1, 2),
                TaskOptions.builder().retry(RetryPolicy.none()).build())
            .id();
    Run result = errand("result", id, "--wait", "10s", "--broker", url);
    assertThat(result.code()).isEqualTo(1);
    assertThat(result.out())
        .contains("FAILURE")
        .contains("java.lang.ArithmeticException: cannot add 1 and 2")
        .contains("at dev.errand.cli.SampleApp");

    Run dlq = errand("dlq", "list", "--broker", url);
    assertThat(dlq.out()).contains(id).contains("FAILED").contains("math.fail");
    assertThat(errand("dlq", "show", id, "--broker", url).out())
        .contains("kwargs:    {\"x\":1,\"y\":2}");
    assertThat(errand("dlq", "discard", id, "--broker", url).code()).isZero();
    assertThat(errand("dlq", "list", "--broker", url).out()).contains("no dead letters");
  }

  @Test
  void resultNotReadyExitsThree() {
    String id =
        errand("call", "math.add", "--kwargs", "{\"x\":1,\"y\":2}", "--broker", url).out().trim();
    Run result = errand("result", id, "--broker", url);
    assertThat(result.code()).isEqualTo(3);
    assertThat(result.out()).contains("PENDING");
  }

  @Test
  void inspectQueuesShowsDepthsPerPriority() {
    errand("call", "a.b", "--queue", "mail", "--priority", "9", "--broker", url);
    errand("call", "a.b", "--queue", "mail", "--priority", "1", "--broker", url);
    errand("call", "a.b", "--queue", "mail", "--countdown", "1h", "--broker", url);

    Run table = errand("inspect", "queues", "--broker", url);
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out())
        .contains("QUEUE")
        .containsPattern("mail\\s+2\\s+0\\s+1\\s+0\\s+0\\s+0\\s+9:1 1:1")
        .contains(
            "1 queue has ready messages and no live worker consuming it: mail; they wait until a"
                + " worker consumes it (errand worker -Q mail)");

    JsonNode json = readJson(errand("inspect", "queues", "--json", "--broker", url).out());
    assertThat(json.get(0).get("queue").asText()).isEqualTo("mail");
    assertThat(json.get(0).get("delayed").asInt()).isEqualTo(1);
    assertThat(json.get(0).get("consumers").asInt()).isZero();
    assertThat(json.get(0).get("unconsumed").asBoolean()).isTrue();
  }

  @Test
  void inspectQueuesFlagsQueuesWithReadyMessagesThatNoLiveWorkerConsumes() {
    // The README's trap: emails.send goes to "email", the worker consumes "default"; a worker
    // listing "reports" but stuck does not count.
    errand("call", "emails.send", "--queue", "email", "--broker", url);
    errand("call", "reports.build", "--queue", "reports", "--broker", url);
    errand("call", "math.add", "--broker", url);
    java.time.Instant now = java.time.Instant.now();
    held.workers()
        .heartbeat(
            new dev.errand.WorkerInfo(
                "w-1",
                "host",
                1,
                List.of("default"),
                4,
                "threads",
                now,
                now,
                List.of(),
                0,
                0,
                true),
            Duration.ofMinutes(1));
    held.workers()
        .heartbeat(
            new dev.errand.WorkerInfo(
                "w-2",
                "host",
                2,
                List.of("reports"),
                4,
                "threads",
                now,
                now,
                List.of(),
                0,
                0,
                false,
                "the fetch loop has not turned for 12 s"),
            Duration.ofMinutes(1));

    Run table = errand("inspect", "queues", "--broker", url);

    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out())
        .containsPattern("default\\s+1\\s+0\\s+0\\s+0\\s+0\\s+1\\s")
        .containsPattern("email\\s+1\\s+0\\s+0\\s+0\\s+0\\s+0\\s")
        .containsPattern("reports\\s+1\\s+0\\s+0\\s+0\\s+0\\s+0\\s")
        .contains(
            "2 queues have ready messages and no live worker consuming them: email, reports; they"
                + " wait until a worker consumes them (errand worker -Q email,reports)");
    JsonNode json = readJson(errand("inspect", "queues", "--json", "--broker", url).out());
    assertThat(json.get(0).get("queue").asText()).isEqualTo("default");
    assertThat(json.get(0).get("unconsumed").asBoolean()).isFalse();
    assertThat(json.get(1).get("unconsumed").asBoolean()).isTrue();
    assertThat(json.get(2).get("consumers").asInt()).isZero();
    assertThat(json.get(2).get("unconsumed").asBoolean()).isTrue();
  }

  @Test
  void inspectQueuesShowsTheQueuesOfDeadLettersAndOfLiveWorkersSortedNaturally() {
    held.deadLetters()
        .add(
            new dev.errand.DeadLetter(
                "dl-1",
                "reports.build",
                "q10",
                dev.errand.DeadLetterReason.FAILED,
                dev.errand.TaskError.of("IOException", "disk full"),
                null,
                null,
                "{}",
                3,
                null,
                java.time.Instant.now()));
    java.time.Instant now = java.time.Instant.now();
    held.workers()
        .heartbeat(
            new dev.errand.WorkerInfo(
                "w-1", "host", 1, List.of("q2"), 4, "threads", now, now, List.of(), 0, 0, true),
            Duration.ofMinutes(1));

    Run table = errand("inspect", "queues", "--broker", url);

    assertThat(table.code()).as(table.err()).isZero();
    // the dead letter's queue is otherwise empty and nobody consumes it; q2 is consumed but empty
    assertThat(table.out())
        .containsPattern(
            "(?s)q2\\s+0\\s+0\\s+0\\s+0\\s+0\\s+1\\s.*q10\\s+0\\s+0\\s+0\\s+0\\s+1\\s+0\\s")
        .doesNotContain("no live worker consuming");
    JsonNode json = readJson(errand("inspect", "queues", "--json", "--broker", url).out());
    assertThat(json.get(1).get("queue").asText()).isEqualTo("q10");
    assertThat(json.get(1).get("dead").asInt()).isEqualTo(1);
  }

  @Test
  void readingCommandsOpenSqliteReadOnlySoTheyWorkWhileTheFileCannotBeWritten(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("errand.db");
    String db = "sqlite:" + file;
    String id = errand("call", "a.b", "--queue", "mail", "--broker", db).out().trim();
    try (java.sql.Connection other = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
        java.sql.Statement s = other.createStatement()) {
      // Another process holds the write lock, as a full disk would refuse every write: a command
      // that wrote on opening (the schema check did) would wait 30 s and fail.
      s.execute("BEGIN IMMEDIATE");
      s.execute("INSERT INTO once_keys (key, expires_at) VALUES ('k', 0)");

      Run queues = errand("inspect", "queues", "--broker", db);
      assertThat(queues.code()).as(queues.err()).isZero();
      assertThat(queues.out()).containsPattern("mail\\s+1\\s");
      Run dlq = errand("dlq", "list", "--broker", db);
      assertThat(dlq.code()).as(dlq.err()).isZero();
      assertThat(dlq.out()).contains("no dead letters");
      Run result = errand("result", id, "--broker", db);
      assertThat(result.code()).as(result.err()).isEqualTo(3);
      assertThat(result.out()).contains("PENDING");
      assertThat(errand("inspect", "workers", "--broker", db).out()).contains("no live workers");
      s.execute("ROLLBACK");
    }
  }

  @Test
  void dlqRetrySendsTheTaskAgain() throws Exception {
    String id = errand("call", "no.such.task", "--broker", url).out().trim();
    startWorker();
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> held.deadLetters().get(id).isPresent());
    assertThat(errand("dlq", "show", id, "--broker", url).out()).contains("UNKNOWN_TASK");

    Run retry = errand("dlq", "retry", "--all", "--broker", url);
    assertThat(retry.out()).contains("re-sent 1 dead letters");
  }

  @Test
  void purgeNeedsYesWithoutATerminal() {
    errand("call", "a.b", "--queue", "bulk", "--broker", url);
    Run refused = errand("purge", "bulk", "--broker", url);
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("needs --yes");
    Run purged = errand("purge", "bulk", "--yes", "--broker", url);
    assertThat(purged.out()).contains("deleted 1 messages");
  }

  @Test
  void queuesArePausedListedAndResumed() {
    errand("call", "a.b", "--queue", "bulk", "--broker", url);
    Run paused = errand("queue", "pause", "bulk", "--broker", url);
    assertThat(paused.code()).as(paused.err()).isZero();
    assertThat(paused.out()).contains("paused 'bulk' (1 ready wait)");
    assertThat(errand("queue", "paused", "--broker", url).out()).isEqualTo("bulk\n");
    assertThat(errand("inspect", "queues", "--broker", url).out()).contains("bulk (paused)");
    assertThat(errand("inspect", "queues", "--json", "--broker", url).out())
        .contains("\"paused\" : true");

    assertThat(errand("queue", "resume", "bulk", "--broker", url).out())
        .isEqualTo("resumed 'bulk'\n");
    assertThat(errand("queue", "resume", "bulk", "--broker", url).out())
        .isEqualTo("'bulk' was not paused\n");
    assertThat(errand("queue", "paused", "--broker", url).out()).isEqualTo("no paused queues\n");
    Run bare = errand("queue");
    assertThat(bare.code()).isEqualTo(2);
    assertThat(bare.err())
        .contains("say what to do: pause QUEUE, resume QUEUE, paused or shards QUEUE [N]");
  }

  @Test
  void queueShardsShowsOneShardAndSayingMoreIsRefusedWhereTheBackendDoesNotShard() {
    Run shown = errand("queue", "shards", "bulk", "--broker", url);
    assertThat(shown.code()).as(shown.err()).isZero();
    assertThat(shown.out()).isEqualTo("'bulk' has 1 shard\n");
    assertThat(errand("queue", "shards", "bulk", "--json", "--broker", url).out())
        .contains("\"shards\" : 1");

    Run refused = errand("queue", "shards", "bulk", "3", "--broker", url);
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("does not shard queues");
    Run bad = errand("queue", "shards", "bulk", "many", "--broker", url);
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("many");
  }

  @Test
  void callSendsUnderALimitAndAUniqueKeyReturnsTheTaskHoldingIt() {
    Run first = errand("call", "backups.run", "--unique-key", "backup:db", "--broker", url);
    Run second = errand("call", "backups.run", "--unique-key", "backup:db", "--broker", url);
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(second.out()).isEqualTo(first.out());

    Run limited =
        errand(
            "call",
            "hooks.send",
            "--queue",
            "hooks",
            "--rate-limit",
            "30/m",
            "--concurrency-limit",
            "2",
            "--limit-key",
            "endpoint:x",
            "--broker",
            url);
    assertThat(limited.code()).as(limited.err()).isZero();
    assertThat(errand("inspect", "limits", "--json", "--broker", url).out())
        .contains("\"key\" : \"endpoint:x\"")
        .contains("\"rate\" : \"30/m\"");
  }

  @Test
  void inspectLimitsShowsEachKeyInUseWithAnyTextInItDefused() {
    dev.errand.Client client = dev.errand.Client.create(held);
    dev.errand.TaskOptions hostile =
        dev.errand.TaskOptions.builder()
            .queue("hooks")
            .rateLimit("30/m")
            .concurrencyLimit(2)
            .limitKey("evil\u001b[2J@|red x|@")
            .build();
    for (int i = 0; i < 3; i++) {
      client.send("webhooks.deliver", (com.fasterxml.jackson.databind.JsonNode) null, hostile);
    }

    Run table = errand("inspect", "limits", "--broker", url);
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out())
        .contains("QUEUE")
        .containsPattern("hooks\\s+evil\\?\\[2J@ \\|red x\\|@\\s+30/m\\s+0/2\\s+3\\s+now")
        .doesNotContain("\u001b");
    JsonNode json = readJson(errand("inspect", "limits", "--json", "--broker", url).out());
    assertThat(json.get(0).get("key").asText()).isEqualTo("evil\u001b[2J@|red x|@");
    assertThat(json.get(0).get("waiting").asInt()).isEqualTo(3);
    assertThat(json.get(0).get("rate").asText()).isEqualTo("30/m");
    assertThat(errand("inspect", "queues", "--json", "--broker", url).out())
        .contains("\"limited\" : 3");
    assertThat(errand("inspect", "limits", "-q", "other", "--broker", url).out())
        .startsWith("no limit keys in use");
  }

  @Test
  void badInputIsExplainedWithExitCodeTwo() {
    Run missing = errand("call", "--broker", url);
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("Missing required parameter: 'NAME'");

    Run duration = errand("call", "a.b", "--countdown", "5 parsecs", "--broker", url);
    assertThat(duration.code()).isEqualTo(2);
    assertThat(duration.err()).contains("'5 parsecs' is not a duration");

    Run args = errand("call", "a.b", "--args", "{\"x\":1}", "--broker", url);
    assertThat(args.code()).isEqualTo(2);
    assertThat(args.err()).contains("--args must be a JSON array");

    Run priority = errand("call", "a.b", "--priority", "12", "--broker", url);
    assertThat(priority.code()).isEqualTo(2);
    assertThat(priority.err()).contains("priority must be 0-9 but was 12");

    Run scheme = errand("inspect", "queues", "--broker", "nope://x");
    assertThat(scheme.code()).isEqualTo(2);
    assertThat(scheme.err()).contains("no backend for URL scheme 'nope'");

    Run app = errand("worker", "--app", "com.example.Missing", "--broker", url);
    assertThat(app.code()).isEqualTo(2);
    assertThat(app.err()).contains("--app class 'com.example.Missing' was not found");

    Run pool =
        errand("worker", "--app", SampleApp.class.getName(), "--pool", "forks", "--broker", url);
    assertThat(pool.code()).isEqualTo(2);
    assertThat(pool.err()).contains("pool must be threads or virtual but was 'forks'");

    Run metrics =
        errand(
            "worker",
            "--app",
            SampleApp.class.getName(),
            "--metrics",
            "host:port",
            "--broker",
            url);
    assertThat(metrics.code()).isEqualTo(2);
    assertThat(metrics.err()).contains("'host:port' is not [HOST:]PORT such as :5555");

    Run unknown = errand("frobnicate");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unmatched argument");
  }

  @Test
  void schedulesAreAddedListedEditedPausedRunAndDeleted() throws Exception {
    Run add =
        errand(
            "schedule",
            "add",
            "nightly",
            "--task",
            "reports.nightly",
            "--cron",
            "30 2 * * *",
            "--zone",
            "Europe/Berlin",
            "--args",
            "{\"kind\":\"daily\"}",
            "--queue",
            "reports",
            "--missed",
            "catch-up:5",
            "--broker",
            url);
    assertThat(add.code()).as(add.err()).isZero();
    assertThat(add.out()).contains("added nightly: reports.nightly 30 2 * * * (Europe/Berlin)");
    errand(
        "schedule",
        "add",
        "remind",
        "--task",
        "remind.send",
        "--at",
        "2030-12-24T18:00",
        "--zone",
        "Europe/Berlin",
        "--broker",
        url);

    Run list = errand("schedule", "list", "--broker", url);
    assertThat(list.out())
        .contains("nightly", "30 2 * * *", "Europe/Berlin", "active")
        .contains("remind", "at 2030-12-24T17:00:00Z");

    Run edit =
        errand("schedule", "edit", "nightly", "--every", "15m", "--queue", "none", "--broker", url);
    assertThat(edit.code()).as(edit.err()).isZero();
    assertThat(errand("schedule", "pause", "nightly", "--broker", url).out())
        .contains("paused nightly", "next none (paused)");
    JsonNode json =
        Wire.mapper().readTree(errand("schedule", "list", "--json", "--broker", url).out());
    JsonNode nightly = json.get(0);
    assertThat(nightly.get("name").asText()).isEqualTo("nightly");
    assertThat(nightly.get("trigger").asText()).isEqualTo("every PT15M");
    assertThat(nightly.get("queue").isNull()).isTrue();
    assertThat(nightly.get("enabled").asBoolean()).isFalse();
    assertThat(nightly.get("missedRuns").asText()).isEqualTo("catch-up:5");
    assertThat(json.get(1).get("name").asText()).isEqualTo("remind");
    assertThat(json.get(1).get("missedRuns").asText())
        .as("the default policy")
        .isEqualTo(Schedule.DEFAULT_MISSED_RUNS.toString())
        .isEqualTo("run-once");
    assertThat(nightly.get("kwargs").get("kind").asText()).isEqualTo("daily");

    Run runNow = errand("schedule", "run-now", "nightly", "--broker", url);
    assertThat(runNow.out()).startsWith("sent ");
    assertThat(held.broker().stats("default").ready()).isEqualTo(1);
    assertThat(errand("schedule", "resume", "nightly", "--broker", url).out()).contains("resumed");
    assertThat(errand("schedule", "delete", "remind", "--broker", url).out()).contains("deleted");
    assertThat(errand("schedule", "list", "--broker", url).out()).doesNotContain("remind");
  }

  @Test
  void badScheduleInputIsExplainedWithExitCodeTwo() {
    errand("schedule", "add", "x", "--task", "t", "--every", "1h", "--broker", url);
    String[][] cases = {
      {"add", "y", "--task", "t", "--cron", "61 * * * *"},
      {"add", "y", "--task", "t"},
      {"add", "y", "--task", "t", "--every", "1h", "--cron", "@daily"},
      {"add", "y", "--task", "t", "--every", "soon"},
      {"add", "y", "--task", "t", "--at", "tomorrow"},
      {"add", "y", "--task", "t", "--every", "1h", "--zone", "Mars/Olympus"},
      {"add", "y", "--task", "t", "--every", "1h", "--missed", "sometimes"},
      {"add", "x", "--task", "t", "--every", "1h"},
    };
    String[] expected = {
      "61 * * * *",
      "add needs --task and one of",
      "give one of --cron, --every and --at",
      "--every 'soon' is not a duration",
      "--at 'tomorrow' is not a time",
      "--zone 'Mars/Olympus' is not a time zone",
      "'sometimes'",
      "'x' already exists",
    };
    for (int i = 0; i < cases.length; i++) {
      List<String> args = new ArrayList<>(List.of("schedule"));
      args.addAll(List.of(cases[i]));
      args.addAll(List.of("--broker", url));
      Run r = errand(args.toArray(String[]::new));
      assertThat(r.code()).as(String.join(" ", cases[i]) + ": " + r.err()).isEqualTo(2);
      assertThat(r.err()).as(String.join(" ", cases[i])).contains(expected[i]);
    }
  }

  @Test
  void dashboardFlagsAreCheckedBeforeAnythingStarts() {
    Run readOnly =
        errand("worker", "--app", SampleApp.class.getName(), "--read-only", "--broker", url);
    assertThat(readOnly.code()).isEqualTo(2);
    assertThat(readOnly.err()).contains("--read-only is a dashboard option: add --dashboard");

    Run blank = errand("dashboard", "--port", "0", "--mask", "iban, ", "--broker", url);
    assertThat(blank.code()).isEqualTo(2);
    assertThat(blank.err())
        .contains("--mask: a name to mask must hold a letter or digit but was ' '");
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd :
        new String[] {
          "worker",
          "call",
          "result",
          "inspect",
          "purge",
          "queue",
          "revoke",
          "dlq",
          "demo",
          "bench",
          "bench-search",
          "bench-workflows",
          "bench-limits",
          "dashboard",
          "beat",
          "schedule"
        }) {
      Run help = errand(cmd, "--help");
      assertThat(help.code()).as(cmd).isZero();
      assertThat(help.out()).as(cmd).contains("Usage: errand " + cmd);
    }
  }

  @Test
  void benchEnqueueOnlyLeavesNoOpTasksForAWorkerOfTheBenchApp() {
    Run enqueued =
        errand("bench", "--enqueue-only", "--tasks", "1200", "--queue", "drain", "--broker", url);
    assertThat(enqueued.code()).as(enqueued.err()).isZero();
    assertThat(enqueued.out()).contains("enqueued 1200 no-op tasks on queue drain");
    assertThat(held.broker().stats("drain").ready()).isEqualTo(1200);

    TaskRegistry tasks = new TaskRegistry();
    new dev.errand.cli.internal.bench.BenchApp().register(tasks);
    workers.add(
        Worker.builder(held)
            .tasks(tasks)
            .options(WorkerOptions.builder().queues("drain").concurrency(4).build())
            .build()
            .start());
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                held.broker().stats("drain").ready() + held.broker().stats("drain").leased() == 0);

    Run misplaced = errand("bench", "--queue", "drain", "--broker", url);
    assertThat(misplaced.code()).isEqualTo(2);
    assertThat(misplaced.err()).contains("--queue is an --enqueue-only option");
  }

  @Test
  void revokeAndInspectTask() {
    String id = errand("call", "a.b", "--broker", url).out().trim();
    assertThat(errand("revoke", id, "--broker", url).out()).contains("revoked " + id);
    Run task = errand("inspect", "task", id, "--broker", url);
    assertThat(task.out()).contains("REVOKED").contains("task-sent").contains("task-revoked");
    assertThat(errand("revoke", id, "--broker", url).code()).isEqualTo(1);
  }

  @Test
  void demoRunsTheWholeMixToTheEndAndSummarises(@TempDir Path exports) {
    Run demo = errand("demo", "--broker", url, "--timeout", "60s", "--exports", exports.toString());
    assertThat(demo.code()).as(demo.out() + demo.err()).isZero();
    assertThat(demo.out())
        .contains("Summary")
        .contains("SUCCESS")
        .contains("retries:")
        .contains("orders-2026-11.csv")
        .contains("UNDECODABLE")
        .contains("SoftTimeLimitExceeded");
    assertThat(held.deadLetters().count(null)).isGreaterThanOrEqualTo(2);
    assertThat(exports.resolve("orders-2026-11.csv")).exists();
  }

  @Test
  void benchPrintsEveryFigureAsJson() {
    Run bench =
        errand(
            "bench",
            "--broker",
            url,
            "--tasks",
            "300",
            "--concurrency",
            "4",
            "--warmup",
            "0",
            "--sleep-tasks",
            "50",
            "--sleep-concurrency",
            "10",
            "--latency-rate",
            "50",
            "--latency-tasks",
            "40",
            "--latency-mode",
            "in-process",
            "--json");
    assertThat(bench.code()).as(bench.err()).isZero();
    JsonNode figures = readJson(bench.out()).get("figures");
    for (String f :
        new String[] {
          "enqueueSingle",
          "enqueueBatched",
          "drainNoop",
          "drainSleep",
          "latencyP50Ms",
          "latencyP99Ms",
          "rssMb"
        }) {
      assertThat(figures.get(f).asDouble()).as(f).isPositive();
    }
    assertThat(figures.get("latencyTasks").asInt()).isEqualTo(40);
    assertThat(figures.get("processLatencyTasks").asInt()).as("not asked for").isZero();
    assertThat(figures.get("ioTasks").asInt()).isEqualTo(50);
    assertThat(held.broker().queues().stream().mapToLong(q -> held.broker().stats(q).ready()).sum())
        .as("the bench purges its queues")
        .isZero();
  }

  private static JsonNode readJson(String s) {
    try {
      return Wire.mapper().readTree(s);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + s, e);
    }
  }
}
