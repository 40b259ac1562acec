package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.Event;
import dev.errand.FakeClock;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Delivery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * {@code docs/wire-format.md} and the golden fixtures describe what the encoder writes: every field
 * of every record, and every header a message carries. Someone writing a client in another language
 * works from that page, so a field or header the code adds and the page leaves out fails here.
 */
class WireDocsTest {

  /** The fixtures of each kind of record, in {@code wire/v1/}. */
  static final Map<String, List<String>> FIXTURES =
      Map.of(
          "message",
          List.of(
              "message-kwargs.json",
              "message-args.json",
              "message-retry.json",
              "message-schedule.json",
              "v2/message-flow.json"),
          "status",
          List.of(
              "status-success.json",
              "status-failure.json",
              "status-retry.json",
              "status-progress.json",
              "status-revoked.json",
              "status-history.json"),
          "deadletter",
          List.of("deadletter-failed.json", "deadletter-undecodable.json"),
          "event",
          List.of("event-task-succeeded.json", "event-worker-online.json"),
          "worker",
          List.of("worker-info.json", "worker-info-not-consuming.json"));

  record Mail(String to, String subject) {}

  static final TaskDef<Mail, Void> SEND = TaskDef.of("emails.send", Mail.class);

  // ---- fields ----

  @Test
  void everyFieldOfEveryRecordIsDocumentedAndNothingElse() throws IOException {
    Map<String, Set<String>> doc = documentedNames();

    assertThat(doc.get("Task message")).isEqualTo(properties(TaskMessage.class));
    assertThat(doc.get("`options`")).isEqualTo(properties(MessageOptions.class));
    assertThat(doc.get("`options.retry`")).isEqualTo(properties(MessageOptions.RetrySpec.class));
    assertThat(doc.get("Task status")).isEqualTo(properties(TaskStatus.class));
    assertThat(doc.get("Dead letter")).isEqualTo(properties(DeadLetter.class));
    assertThat(doc.get("Event")).isEqualTo(properties(Event.class));
    assertThat(doc.get("Worker heartbeat")).isEqualTo(properties(WorkerInfo.class));
  }

  @Test
  void nestedObjectsAreDescribedInTheirFieldsRow() throws IOException {
    String doc = Files.readString(docPath());

    assertThat(row(doc, "Task status", "error")).contains(backticked(properties(TaskError.class)));
    assertThat(row(doc, "Task status", "retries"))
        .contains(backticked(properties(TaskStatus.Retry.class)));
    assertThat(row(doc, "Dead letter", "error")).contains(backticked(properties(TaskError.class)));
    assertThat(row(doc, "Worker heartbeat", "running"))
        .contains(backticked(properties(WorkerInfo.RunningTask.class)));
  }

  @Test
  void everyFieldOfEveryRecordAppearsInAFixture() throws IOException {
    assertThat(fixtureFields("message", null)).containsAll(properties(TaskMessage.class));
    assertThat(fixtureFields("message", "options")).containsAll(properties(MessageOptions.class));
    assertThat(fixtureFields("message", "options/retry"))
        .containsAll(properties(MessageOptions.RetrySpec.class));
    assertThat(fixtureFields("status", null)).containsAll(properties(TaskStatus.class));
    assertThat(fixtureFields("deadletter", null)).containsAll(properties(DeadLetter.class));
    assertThat(fixtureFields("event", null)).containsAll(properties(Event.class));
    assertThat(fixtureFields("worker", null)).containsAll(properties(WorkerInfo.class));
  }

  // ---- headers ----

  @Test
  void theDocumentedHeadersAreExactlyThoseTheFixturesShow() throws IOException {
    assertThat(documentedNames().get("`headers`")).isEqualTo(fixtureFields("message", "headers"));
  }

  @Test
  void everyHeaderTheClientAndARetryWriteIsDocumentedAndInAFixture() throws Exception {
    Set<String> documented = documentedNames().get("`headers`");
    Set<String> inFixtures = fixtureFields("message", "headers");
    FakeClock clock = new FakeClock();
    try (InMemoryBackend backend = new InMemoryBackend(clock)) {
      Client client = Client.builder(backend).clock(clock).build();
      // Sent with every option set, from inside a running task (a worker's MDC), then retried.
      MDC.put(CallHistory.TASK_ID_MDC_KEY, "parent-task");
      try {
        client.enqueue(SEND, new Mail("a@example.com", "hi"), everyOption());
      } finally {
        MDC.remove(CallHistory.TASK_ID_MDC_KEY);
      }
      clock.advance(Duration.ofMinutes(2)); // past the countdown
      Delivery d =
          backend.broker().claim(List.of("q"), 1, Duration.ofMinutes(1), Duration.ZERO).get(0);
      TaskMessage sent = Wire.decodeMessage(d.body());
      TaskMessage retried =
          Wire.decodeMessage(
              Wire.encodeMessage(
                  CallHistory.forRetry(
                      sent,
                      clock.instant(),
                      new TaskError("java.io.IOException", "down", "trace"),
                      clock.instant())));

      Set<String> written = new TreeSet<>(retried.headers().keySet());
      written.remove("x-custom"); // the one custom header the call set
      assertThat(written)
          .containsExactlyInAnyOrder(
              TaskMessage.REQUEST_ID, CallHistory.PARENT_HEADER, CallHistory.RETRIES_HEADER);
      assertThat(documented).containsAll(written);
      assertThat(inFixtures).containsAll(written);
      // ... and every field is one the page describes
      assertThat(documentedNames().get("Task message"))
          .containsAll(fieldNames(Wire.mapper().readTree(Wire.encodeMessage(retried))));
    }
  }

  @Test
  void theRetryHistoryInTheFixtureIsWhatAWorkerWrites() throws IOException {
    TaskMessage fixture = Wire.decodeMessage(fixture("message-retry.json"));
    // The same call as it was first sent: no retries, no headers.
    TaskMessage m =
        new TaskMessage(
            1,
            fixture.id(),
            fixture.task(),
            fixture.args(),
            fixture.kwargs(),
            fixture.queue(),
            fixture.priority(),
            null,
            null,
            0,
            fixture.sentAt(),
            null,
            Map.of(),
            null);
    m =
        CallHistory.forRetry(
            m,
            null,
            new TaskError("java.net.SocketTimeoutException", "read timed out", "trace"),
            Instant.parse("2026-03-14T09:26:55.589Z"));
    m =
        CallHistory.forRetry(
            m,
            null,
            new TaskError("java.io.IOException", "HTTP 503 from hooks.example.com", "trace"),
            Instant.parse("2026-03-14T09:26:59.589Z"));

    assertThat(m.headers().get(CallHistory.RETRIES_HEADER))
        .isEqualTo(fixture.headers().get(CallHistory.RETRIES_HEADER));
  }

  static TaskOptions everyOption() {
    return TaskOptions.builder()
        .queue("q")
        .priority(7)
        .countdown(Duration.ofMinutes(1))
        .expires(Duration.ofHours(1))
        .idempotencyKey("k")
        .requestId("req-1")
        .header("x-custom", "v")
        .retry(
            RetryPolicy.builder()
                .maxRetries(5)
                .retryOn(IOException.class)
                .neverRetry(IllegalStateException.class)
                .build())
        .softTimeLimit(Duration.ofSeconds(30))
        .hardTimeLimit(Duration.ofSeconds(60))
        .ignoreResult(false)
        .acksLate(true)
        .build();
  }

  // ---- reading the page, the fixtures and the encoder ----

  /** The names the encoder writes for {@code type}, from the shared mapper's own view of it. */
  static Set<String> properties(Class<?> type) {
    BeanDescription d =
        Wire.mapper()
            .getSerializationConfig()
            .introspect(Wire.mapper().getTypeFactory().constructType(type));
    Set<String> names = new TreeSet<>();
    for (BeanPropertyDefinition p : d.findProperties()) {
      if (p.couldSerialize()) {
        names.add(p.getName());
      }
    }
    return names;
  }

  /** The page: {@code docs/wire-format.md}, found from the module's directory upwards. */
  static Path docPath() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path p = dir.resolve("docs/wire-format.md");
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new AssertionError("docs/wire-format.md not found above " + Path.of("").toAbsolutePath());
  }

  private static final Pattern NAME = Pattern.compile("`([^`]+)`");

  /**
   * Per section heading (without its {@code #}s): the names in backticks in the first column of its
   * table rows.
   */
  static Map<String, Set<String>> documentedNames() throws IOException {
    Map<String, Set<String>> out = new LinkedHashMap<>();
    String section = null;
    boolean header = true;
    for (String line : Files.readAllLines(docPath(), StandardCharsets.UTF_8)) {
      if (line.startsWith("#")) {
        section = line.replaceFirst("^#+\\s*", "").strip();
        header = true;
      } else if (line.startsWith("|") && section != null) {
        if (header || line.startsWith("|---")) {
          header = false; // the column titles, then the separator
          continue;
        }
        String first = line.split("(?<!\\\\)\\|")[1];
        Matcher m = NAME.matcher(first);
        while (m.find()) {
          out.computeIfAbsent(section, k -> new TreeSet<>()).add(m.group(1));
        }
      } else if (line.isBlank()) {
        header = true; // a next table starts with its titles again
      }
    }
    return out;
  }

  /** The table row of {@code field} in {@code section}. */
  static String row(String doc, String section, String field) {
    int start = doc.indexOf("\n## " + section + "\n");
    assertThat(start).as("section %s", section).isNotNegative();
    for (String line : doc.substring(start).split("\n")) {
      if (line.startsWith("| `" + field + "` |")) {
        return line;
      }
    }
    throw new AssertionError("no row for `" + field + "` in " + section);
  }

  static String[] backticked(Set<String> names) {
    return names.stream().map(n -> "`" + n + "`").toArray(String[]::new);
  }

  static byte[] fixture(String name) throws IOException {
    return WireFormatTest.fixture(name);
  }

  /** The field names found in the fixtures of {@code kind}, at {@code path} ("a/b") or the top. */
  static Set<String> fixtureFields(String kind, String path) throws IOException {
    Set<String> names = new TreeSet<>();
    for (String f : FIXTURES.get(kind)) {
      JsonNode n = Wire.mapper().readTree(fixture(f));
      if (path != null) {
        for (String p : path.split("/")) {
          n = n.path(p);
        }
      }
      names.addAll(fieldNames(n));
    }
    return names;
  }

  static Set<String> fieldNames(JsonNode n) {
    Set<String> names = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }
}
