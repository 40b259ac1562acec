package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Backends;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.cli.internal.ErrandCommand;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The command line says no to nonsense: each refused input with its exit code and the exact
 * message, run in-process against a named in-memory backend.
 */
class CliValidationTest {

  String url;
  Backend held;

  record Run(int code, String out, String err) {}

  @BeforeEach
  void open() {
    url = "memory:cli-validation-" + System.nanoTime();
    held = Backends.open(url);
  }

  @AfterEach
  void close() {
    held.close();
  }

  Run errand(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--broker", url));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  /** Runs {@code args} and asserts exit {@code code} with exactly {@code line} on stderr. */
  void refused(int code, String line, String... args) {
    Run r = errand(args);
    assertThat(r.code()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(code);
    assertThat(r.err().lines().findFirst().orElse("")).as(String.join(" ", args)).isEqualTo(line);
    assertThat(r.out()).as(String.join(" ", args)).isEmpty();
  }

  @Test
  void jsonArgumentsAreExactlyOneValueOfTheirShape() {
    refused(
        2,
        "error: --args must be one JSON value but has more after it at character 8: [3]",
        "call",
        "a.b",
        "--args",
        "[1, 2] [3]");
    refused(
        2,
        "error: --kwargs must be one JSON value but has more after it at character 10: {\"b\": 2}",
        "call",
        "a.b",
        "--kwargs",
        "{\"a\": 1} {\"b\": 2}");
    refused(
        2,
        "error: --args must be one JSON value but has more after it at character 6: ]",
        "call",
        "a.b",
        "--args",
        "[1,2]]");
    refused(
        2,
        "error: --kwargs is not valid JSON near character 13: Duplicate field 'a'",
        "call",
        "a.b",
        "--kwargs",
        "{\"a\": 1, \"a\": 2}");
    refused(2, "error: --kwargs is empty; give a JSON value", "call", "a.b", "--kwargs", " ");
    refused(
        2,
        "error: --kwargs must be a JSON object like {\"to\": \"a@b.c\"} but was array [1]",
        "call",
        "a.b",
        "--kwargs",
        "[1]");
    refused(
        2,
        "error: --args must be one JSON value but has more after it at character 5: x",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--every",
        "1h",
        "--args",
        "[1] x");
    refused(
        2,
        "error: --args must be a JSON array (positional arguments) or object (keyword arguments)"
            + " but was string \"now\"",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--every",
        "1h",
        "--args",
        "\"now\"");
    assertThat(held.broker().queues()).as("nothing was sent").isEmpty();
    assertThat(errand("schedule", "list").out()).contains("no schedules");
  }

  @Test
  void whenATaskMayRunIsOneSensibleChoice() {
    Run both = errand("call", "a.b", "--countdown", "10s", "--eta", "2030-01-01T00:00:00Z");
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err())
        .isEqualTo(
            "error: --countdown=DURATION, --eta=ISO are mutually exclusive (specify only one)\n"
                + "Run 'errand call --help' for its options.\n");
    refused(
        2, "error: --countdown must be positive but was -5s", "call", "a.b", "--countdown", "-5s");
    refused(
        2, "error: --countdown must be positive but was 0s", "call", "a.b", "--countdown", "0s");
    refused(
        2,
        "error: --countdown must be positive but was -5s",
        "call",
        "a.b",
        "--countdown",
        "PT-5S");
    refused(2, "error: --expires must be positive but was -1m", "call", "a.b", "--expires", "-1m");
    refused(
        2,
        "error: --expires 10s ends before the task may start (--countdown 1m): it would always"
            + " expire without running",
        "call",
        "a.b",
        "--countdown",
        "1m",
        "--expires",
        "10s");
    refused(
        2,
        "error: --eta '+100000-01-01T00:00:00Z' is more than 100 years from now; check the year",
        "call",
        "a.b",
        "--eta",
        "+100000-01-01T00:00:00Z");
    refused(
        2,
        "error: Invalid value for option '--countdown': '99999999999999999999d' is longer than"
            + " 100 years, the longest duration errand takes (durations become nanoseconds in"
            + " timed waits, which overflow at 292 years)",
        "call",
        "a.b",
        "--countdown",
        "99999999999999999999d");
    assertThat(held.broker().queues()).as("nothing was sent").isEmpty();
  }

  @Test
  void durationsOfTheLongRunningCommandsAreBounded() {
    String app = SampleApp.class.getName();
    refused(2, "error: --wait must be positive but was 0s", "result", "x", "--wait", "0s");
    refused(
        2,
        "error: --lease must be at most 1h but was 2h: a killed worker's tasks wait out its lease"
            + " before they run again, and a running task's lease is renewed every third of it,"
            + " so a long task never needs a long lease",
        "worker",
        "--app",
        app,
        "--lease",
        "2h");
    refused(
        2,
        "error: --lease must be at least 1s but was 500ms",
        "worker",
        "--app",
        app,
        "--lease",
        "500ms");
    refused(
        2,
        "error: --shutdown-timeout must not be negative but was -1s",
        "worker",
        "--app",
        app,
        "--shutdown-timeout",
        "-1s");
    refused(
        2,
        "error: --max-deliveries must be positive but was 0",
        "worker",
        "--app",
        app,
        "--max-deliveries",
        "0");
    refused(
        2,
        "error: --failover must be at most 1h but was 1d: no schedule is sent for up to this long"
            + " after the leader dies",
        "beat",
        "--failover",
        "1d");
    refused(
        2,
        "error: --misfire-grace must not be negative but was -1s",
        "beat",
        "--misfire-grace",
        "-1s");
    refused(
        2,
        "error: --every must be at least 1s but was -1h",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--every",
        "-1h");
    refused(
        2,
        "error: --expires must be positive but was 0s",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--every",
        "1h",
        "--expires",
        "0s");
    refused(
        2,
        "error: --max-runs must be positive but was 0",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--every",
        "1h",
        "--max-runs",
        "0");
    refused(2, "error: --timeout must be positive but was 0s", "demo", "--timeout", "0s");
  }

  @Test
  void timesAndSizesBeyondWhatTheCodeCanCarryAreRefusedUpFront() {
    refused(
        2,
        "error: --start '+999999999-12-31T23:59:59Z' is more than 100 years from now; check the"
            + " year",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--every",
        "1h",
        "--start",
        "+999999999-12-31T23:59:59Z");
    refused(
        2,
        "error: --at '1900-01-01T00:00:00Z' is more than 100 years from now; check the year",
        "schedule",
        "add",
        "s",
        "--task",
        "t",
        "--at",
        "1900-01-01T00:00:00Z");
    Run huge = errand("call", "a.b", "--kwargs", "{\"blob\": \"" + "x".repeat(1_100_000) + "\"}");
    assertThat(huge.code()).as(huge.err()).isEqualTo(2);
    assertThat(huge.err())
        .startsWith("error: message of task a.b [")
        .contains("bytes, over the limit of 1048576 bytes");
    assertThat(held.broker().queues()).as("nothing was sent").isEmpty();
    refused(
        2,
        "error: --payload must be 0-1044480 but was 2000000: a task's message, payload and"
            + " envelope, is at most 1048576 bytes",
        "bench",
        "--payload",
        "2000000");
  }

  @Test
  void benchLatencyOptionsAreChecked() {
    refused(2, "error: --latency-tasks must be > 0 but was 0", "bench", "--latency-tasks", "0");
    refused(
        2,
        "error: --latency-mode must be in-process, process, both or none but was 'sideways'",
        "bench",
        "--latency-mode",
        "sideways");
    refused(
        2,
        "error: --latency-mode process needs a backend another process can reach, not "
            + url
            + ": use in-process",
        "bench",
        "--latency-mode",
        "process");
  }

  @Test
  void concurrencyAndPrefetchAreBoundedByWhatTheMachineCanRun() {
    String app = SampleApp.class.getName();
    // More than any machine allows: Linux caps a process's threads below 2^22 (kernel.pid_max).
    Run threads = errand("worker", "--app", app, "-c", "5000000");
    assertThat(threads.code()).as(threads.err()).isEqualTo(2);
    assertThat(threads.err())
        .startsWith("error: --concurrency must be at most ")
        .contains(
            " with --pool threads but was 5000000: each slot is an OS thread, this machine lets a"
                + " process have ")
        .contains(
            "and half is left for the JVM, the backend and other processes; for more tasks at"
                + " once use --pool virtual (Java 21+)");
    long heapMib = Runtime.getRuntime().maxMemory() / (1024 * 1024);
    refused(
        2,
        "error: --prefetch must be at most "
            + heapMib
            + " but was 5000000: prefetched messages wait on the heap, each up to 1 MiB (the"
            + " largest message a client sends), and the heap is "
            + heapMib
            + " MiB",
        "worker",
        "--app",
        app,
        "-c",
        "1",
        "--prefetch",
        "5000000");
    refused(
        2, "error: --concurrency must be positive but was 0", "worker", "--app", app, "-c", "0");
    refused(2, "error: --concurrency must be positive but was -3", "bench", "--concurrency", "-3");
    Run demo = errand("demo", "-c", "5000000");
    assertThat(demo.code()).isEqualTo(2);
    assertThat(demo.err()).startsWith("error: --concurrency must be at most ");
  }

  @Test
  void aVirtualPoolNeedsJava21() {
    int java = Runtime.version().feature();
    Run r = errand("worker", "--app", SampleApp.class.getName(), "--pool", "virtual", "-c", "0");
    assertThat(r.code()).isEqualTo(2);
    if (java < 21) {
      assertThat(r.err())
          .isEqualTo(
              "error: --pool virtual needs Java 21 or newer but this is Java "
                  + java
                  + " ("
                  + System.getProperty("java.home")
                  + "); use --pool threads, or run with JAVA_HOME set to a JDK 21+\n");
    } else {
      assertThat(r.err()).isEqualTo("error: --concurrency must be positive but was 0\n");
    }
  }

  @Test
  void unknownTasksDeadLettersAndSchedulesExitFour() {
    String unknown =
        "error: no task with id nope is known (no status, event, dead letter or revoke mark names"
            + " it; statuses expire after a day by default)";
    refused(4, unknown, "result", "nope");
    refused(4, unknown, "result", "nope", "--wait", "100ms");
    refused(4, unknown + "; to revoke it before its task is sent, add --force", "revoke", "nope");
    refused(4, "error: no dead letter with id nope", "dlq", "show", "nope");
    refused(4, "error: no dead letter with id nope", "dlq", "retry", "nope");
    refused(4, "error: no dead letter with id nope", "dlq", "discard", "nope");
    for (String cmd : new String[] {"pause", "resume", "delete", "run-now"}) {
      refused(4, "error: no schedule named 'nope'", "schedule", cmd, "nope");
    }
    refused(4, "error: no schedule named 'nope'", "schedule", "edit", "nope", "--every", "1h");

    // A task still queued has no status yet, but its sent event makes it known.
    String queued = errand("call", "a.b").out().strip();
    assertThat(errand("result", queued).code()).isEqualTo(ErrandCommand.NOT_READY);
  }

  @Test
  void revokeForceMarksAnIdBeforeItsTaskIsSent() {
    Run r = errand("revoke", "later-1", "--force");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "revoked later-1 in advance: no task has this id yet; one sent within 1d is"
                + " skipped\n");
    assertThat(held.results().revoked(List.of("later-1"))).containsExactly("later-1");
    Run result = errand("result", "later-1");
    assertThat(result.code()).isEqualTo(1);
    assertThat(result.out()).contains("REVOKED");
  }

  @Test
  void dlqShowCutsHugeFieldsUnlessFull() throws Exception {
    String big = "x".repeat(100_000);
    StringBuilder trace = new StringBuilder("java.lang.IllegalStateException: boom\n");
    for (int i = 0; i < 2_000; i++) {
      trace.append("\tat com.example.Deep.call").append(i).append("(Deep.java:").append(i);
      trace.append(")\n");
    }
    String body = "{\"task\":\"a.b\",\"kwargs\":{\"blob\":\"" + big + "\"}}";
    held.deadLetters()
        .add(
            new DeadLetter(
                "dead-1",
                "a.b",
                "default",
                DeadLetterReason.FAILED,
                new TaskError("java.lang.IllegalStateException", "boom", trace.toString()),
                Wire.mapper().createArrayNode(),
                Wire.mapper().createObjectNode().put("blob", big),
                body,
                4,
                Instant.parse("2026-01-01T00:00:00Z"),
                Instant.parse("2026-01-01T00:01:00Z")));

    Run cut = errand("dlq", "show", "dead-1");
    assertThat(cut.code()).as(cut.err()).isZero();
    assertThat(cut.out().length()).isLessThan(16_000);
    int traceBytes = trace.toString().stripTrailing().length();
    assertThat(cut.out())
        .contains("kwargs:    {\"blob\":\"" + "x".repeat(2048 - 9) + "... (")
        .contains("... (" + (body.length() - 2048) + " more bytes; --full to see all)")
        .contains("... (" + (traceBytes - 8192) + " more bytes; --full to see all)")
        .contains("\tat com.example.Deep.call1(Deep.java:1)");

    Run full = errand("dlq", "show", "dead-1", "--full");
    assertThat(full.out()).contains(body).contains(trace.toString().stripTrailing());
    assertThat(full.out()).doesNotContain("--full to see all");

    JsonNode json = Wire.mapper().readTree(errand("dlq", "show", "dead-1", "--json").out());
    assertThat(json.get("body").asText()).isEqualTo(body);
    assertThat(json.get("error").get("traceback").asText()).isEqualTo(trace.toString());
  }

  @Test
  void queueFlagsAndConcurrencyRangesAreChecked() {
    String app = SampleApp.class.getName();
    refused(
        2,
        "error: --concurrency must be N or MIN..MAX (e.g. 8, or 2..32) but was '2-32'",
        "worker",
        "--app",
        app,
        "-c",
        "2-32");
    refused(
        2,
        "error: --concurrency must be N or MIN..MAX with 1 <= MIN <= MAX but was '8..2'",
        "worker",
        "--app",
        app,
        "-c",
        "8..2");
    refused(
        2,
        "error: -Q weight of queue 'low' must be 1-1000 but was '0'",
        "worker",
        "--app",
        app,
        "-Q",
        "high:5,low:0");
    refused(2, "error: -Q lists queue 'a' twice", "worker", "--app", app, "-Q", "a,b,a:2");
    refused(
        2,
        "error: --queue-order must be round-robin, strict or weighted but was 'fifo'",
        "worker",
        "--app",
        app,
        "-Q",
        "a,b",
        "--queue-order",
        "fifo");
    refused(
        2,
        "error: --queue-order strict cannot be used with -Q weights; drop the :WEIGHT or the flag",
        "worker",
        "--app",
        app,
        "-Q",
        "a:2,b",
        "--queue-order",
        "strict");
    refused(
        2,
        "error: --scale-down-after only applies with -c MIN..MAX",
        "worker",
        "--app",
        app,
        "-c",
        "4",
        "--scale-down-after",
        "5s");
    refused(
        2,
        "error: queue must be 1-200 characters without white space but was 'a b'",
        "queue",
        "pause",
        "a b");
  }

  @Test
  void callLimitsAreChecked() {
    refused(
        2,
        "error: rate limit must be N/s, N/m, N/h or N/d (e.g. 10/s) but was 'fast'",
        "call",
        "a.b",
        "--rate-limit",
        "fast");
    refused(
        2,
        "error: concurrencyLimit must be 1-1000000 but was 0",
        "call",
        "a.b",
        "--concurrency-limit",
        "0");
    refused(
        2,
        "error: --limit-key needs --rate-limit or --concurrency-limit",
        "call",
        "a.b",
        "--limit-key",
        "k");
  }

  @Test
  void purgeRefusesAQueueNameNoTaskCanHave() {
    refused(
        2,
        "error: queue must be 1-200 characters without white space but was 'a b'",
        "purge",
        "a b",
        "--yes");
  }

  @Test
  void dlqQueueGoesWithAllOnly() {
    refused(
        2,
        "error: --queue q only applies with --all; a dead letter id names one already",
        "dlq",
        "retry",
        "some-id",
        "--queue",
        "q");
  }

  @Test
  void badUsageSaysWhyAndWhereToLookWithoutTheWholeUsage() {
    Run r = errand("call", "a.b", "--nope");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .isEqualTo("error: Unknown option: '--nope'\nRun 'errand call --help' for its options.\n");
  }
}
