package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.InvalidMessageException;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden fixtures of wire format versions 1 and 2 (v2 adds a message's workflow): every file
 * decodes, and re-encodes to the same JSON, so a change to the format cannot go unnoticed.
 */
class WireFormatTest {

  static byte[] fixture(String name) throws IOException {
    String path = name.startsWith("v2/") ? "/wire/" + name : "/wire/v1/" + name;
    try (InputStream in = WireFormatTest.class.getResourceAsStream(path)) {
      assertThat(in).as("fixture %s", name).isNotNull();
      return in.readAllBytes();
    }
  }

  static Stream<Arguments> fixtures() {
    Function<byte[], byte[]> message = b -> Wire.encodeMessage(Wire.decodeMessage(b));
    Function<byte[], byte[]> status = b -> Wire.encodeStatus(Wire.decodeStatus(b));
    Function<byte[], byte[]> deadLetter = b -> Wire.encodeDeadLetter(Wire.decodeDeadLetter(b));
    Function<byte[], byte[]> event = b -> Wire.encodeEvent(Wire.decodeEvent(b));
    Function<byte[], byte[]> worker = b -> Wire.encodeWorker(Wire.decodeWorker(b));
    return Stream.of(
        Arguments.of("message-kwargs.json", message),
        Arguments.of("message-args.json", message),
        Arguments.of("message-retry.json", message),
        Arguments.of("message-schedule.json", message),
        Arguments.of("v2/message-flow.json", message),
        Arguments.of("status-success.json", status),
        Arguments.of("status-failure.json", status),
        Arguments.of("status-retry.json", status),
        Arguments.of("status-progress.json", status),
        Arguments.of("status-revoked.json", status),
        Arguments.of("status-history.json", status),
        Arguments.of("deadletter-failed.json", deadLetter),
        Arguments.of("deadletter-undecodable.json", deadLetter),
        Arguments.of("event-task-succeeded.json", event),
        Arguments.of("event-worker-online.json", event),
        Arguments.of("worker-info.json", worker),
        Arguments.of("worker-info-not-consuming.json", worker));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureDecodesAndReencodesToTheSameJson(String name, Function<byte[], byte[]> roundTrip)
      throws IOException {
    byte[] golden = fixture(name);
    JsonNode expected = Wire.mapper().readTree(golden);
    JsonNode actual = Wire.mapper().readTree(roundTrip.apply(golden));
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void messageFieldsDecodeAsDocumented() throws IOException {
    TaskMessage m = Wire.decodeMessage(fixture("message-kwargs.json"));
    assertThat(m.v()).isEqualTo(1);
    assertThat(m.task()).isEqualTo("emails.send");
    assertThat(m.kwargs().get("to").asText()).isEqualTo("ada@example.com");
    assertThat(m.kwargs().get("replyTo").isNull()).isTrue();
    assertThat(m.args()).isEmpty();
    assertThat(m.queue()).isEqualTo("email");
    assertThat(m.priority()).isEqualTo(7);
    assertThat(m.eta()).isEqualTo(Instant.parse("2026-03-14T09:27:53.589Z"));
    assertThat(m.idempotencyKey()).isEqualTo("welcome:42");
    assertThat(m.requestId()).isEqualTo("req-7f3a");
    var options = m.options().toTaskOptions();
    assertThat(options.retry().maxRetries()).isEqualTo(5);
    assertThat(options.retry().retryOn()).containsExactly("java.io.IOException");
    assertThat(options.softTimeLimit()).isEqualTo(Duration.ofSeconds(30));
    assertThat(options.acksLate()).isTrue();
    assertThat(m.options().limit())
        .isEqualTo(new dev.errand.spi.FlowLimit("tenant:42", 10, 1000, 1, 2));
    assertThat(m.options().uniqueKey()).isEqualTo("welcome-once:42");

    TaskMessage positional = Wire.decodeMessage(fixture("message-args.json"));
    assertThat(positional.args()).hasSize(2);
    assertThat(positional.options()).isEqualTo(MessageOptions.NONE);
    TaskMessage retry = Wire.decodeMessage(fixture("message-retry.json"));
    assertThat(retry.retries()).isEqualTo(2);
    assertThat(retry.requestId()).isEqualTo("req-7f3a");
    assertThat(CallHistory.parent(retry)).isEqualTo("01960e2a-1b2c-7d3e-8f40-5a6b7c8d9e0f");
    assertThat(CallHistory.retries(retry))
        .extracting(r -> r.attempt() + " " + r.at() + " " + r.error().type())
        .containsExactly(
            "1 2026-03-14T09:26:55.589Z java.net.SocketTimeoutException",
            "2 2026-03-14T09:26:59.589Z java.io.IOException");
    TaskMessage scheduled = Wire.decodeMessage(fixture("message-schedule.json"));
    assertThat(scheduled.headers())
        .containsEntry("errand-schedule", "nightly-report")
        .containsEntry("errand-schedule-tick", "2026-03-14T01:30:00Z");
  }

  @Test
  void recordsDecodeAsDocumented() throws IOException {
    TaskStatus failure = Wire.decodeStatus(fixture("status-failure.json"));
    assertThat(failure.state()).isEqualTo(TaskState.FAILURE);
    assertThat(failure.error().type()).isEqualTo("java.io.IOException");
    assertThat(failure.error().traceback()).contains("Mailer.java:42");
    assertThat(failure.attempt()).isEqualTo(6);
    assertThat(Wire.decodeStatus(fixture("status-revoked.json")).reason()).isEqualTo("expired");
    TaskStatus history = Wire.decodeStatus(fixture("status-history.json"));
    assertThat(history.parentId()).isEqualTo("01960e2a-1b2c-7d3e-8f40-5a6b7c8d9e00");
    assertThat(history.args().get("kwargs").get("to").asText()).isEqualTo("ada@example.com");
    assertThat(history.retries())
        .extracting(r -> r.attempt() + " " + r.error().type())
        .containsExactly("1 java.io.IOException", "2 java.net.SocketTimeoutException");
    assertThat(Wire.decodeStatus(fixture("status-progress.json")).progress().get("total").asInt())
        .isEqualTo(1000);

    DeadLetter dl = Wire.decodeDeadLetter(fixture("deadletter-undecodable.json"));
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dl.taskName()).isNull();
    assertThat(dl.body()).isEqualTo("{not json");

    Event e = Wire.decodeEvent(fixture("event-task-succeeded.json"));
    assertThat(e.type()).isEqualTo(EventType.TASK_SUCCEEDED);
    assertThat(e.seq()).isEqualTo(1042);
    assertThat(new String(fixture("event-task-succeeded.json"), StandardCharsets.UTF_8))
        .contains("\"task-succeeded\"");

    WorkerInfo w = Wire.decodeWorker(fixture("worker-info.json"));
    assertThat(w.queues()).containsExactly("email", "default");
    assertThat(w.running()).hasSize(1);
    assertThat(w.consuming()).isTrue();
    assertThat(w.problem()).isNull();
    WorkerInfo stalled = Wire.decodeWorker(fixture("worker-info-not-consuming.json"));
    assertThat(stalled.consuming()).isFalse();
    assertThat(stalled.problem()).startsWith("task outcomes could not be written for 12.0 s");
  }

  @Test
  void sparseMessageFromAnotherProducerDecodesWithDefaults() {
    TaskMessage m =
        Wire.decodeMessage(
            "{\"v\":1,\"id\":\"x1\",\"task\":\"math.add\",\"queue\":\"default\",\"newerField\":true}"
                .getBytes(StandardCharsets.UTF_8));
    assertThat(m.args()).isEmpty();
    assertThat(m.kwargs()).isEmpty();
    assertThat(m.headers()).isEmpty();
    assertThat(m.options()).isEqualTo(MessageOptions.NONE);
    assertThat(m.retries()).isZero();
  }

  @Test
  void badMessagesAreRefusedWithAClearReason() {
    assertInvalid("{not json", "not valid JSON");
    assertInvalid("[1,2]", "not a JSON object");
    assertInvalid("{\"v\":1,\"task\":\"a\",\"queue\":\"q\"}", "missing or non-text field 'id'");
    assertInvalid("{\"v\":1,\"id\":\"i\",\"queue\":\"q\"}", "missing or non-text field 'task'");
    assertInvalid("{\"v\":1,\"id\":\"i\",\"task\":\"a\"}", "missing or non-text field 'queue'");
    assertInvalid("{\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\"}", "field 'v'");
    assertInvalid(
        "{\"v\":3,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\"}", "unsupported format version 3");
    String step = "{\"id\":\"s\",\"task\":\"t\",\"queue\":\"q\",\"priority\":%s}";
    assertInvalid(
        "{\"v\":2,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"flow\":{\"next\":[{\"sig\":"
            + step.formatted("42")
            + "}]}}",
        "invalid 'flow': step s has priority 42");
    assertInvalid(
        "{\"v\":2,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"flow\":{\"next\":["
            + "{\"group\":{\"id\":\"g\",\"members\":[[]]}}]}}",
        "invalid 'flow': a member of group g has no task");
    assertInvalid(
        "{\"v\":2,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"flow\":{\"next\":["
            + "{\"group\":{\"id\":\"g\",\"members\":[["
            + step.formatted("1")
            + "]]}},"
            + "{\"sig\":"
            + step.formatted("1")
            + "}]}}",
        "a group can only be the last step");
    assertInvalid(
        "{\"v\":2,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"flow\":{\"stored\":"
            + "{\"steps\":\"x\",\"at\":-1}}}",
        "at must be >= 0");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"args\":{}}",
        "field 'args' must be an array");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"kwargs\":[]}",
        "field 'kwargs' must be an object");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"priority\":\"high\"}",
        "invalid message");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"priority\":-1}",
        "field 'priority' must be 0-9 but was -1");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"retries\":-2}",
        "field 'retries' must be >= 0 but was -2");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"retries\":1e20}",
        "invalid message");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\","
            + "\"options\":{\"softTimeLimitMs\":0}}",
        "invalid 'options': softTimeLimit must be > 0");
    assertInvalid(
        "{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"args\":"
            + "[".repeat(101)
            + "]".repeat(101)
            + "}",
        "args nest 101 levels deep; at most 100 are allowed");
  }

  @Test
  void depthCountsContainersAndAcceptsTheLimit() throws IOException {
    assertThat(Wire.depth(Wire.mapper().readTree("1"))).isZero();
    assertThat(Wire.depth(Wire.mapper().readTree("[]"))).isEqualTo(1);
    assertThat(Wire.depth(Wire.mapper().readTree("{\"a\":[1,{\"b\":[]}],\"c\":2}"))).isEqualTo(4);
    String atLimit = "[".repeat(Wire.MAX_NESTING_DEPTH) + "]".repeat(Wire.MAX_NESTING_DEPTH);
    TaskMessage m =
        Wire.decodeMessage(
            ("{\"v\":1,\"id\":\"i\",\"task\":\"a\",\"queue\":\"q\",\"args\":" + atLimit + "}")
                .getBytes(StandardCharsets.UTF_8));
    assertThat(Wire.depth(m.args())).isEqualTo(Wire.MAX_NESTING_DEPTH);
    // What is accepted can always be stored: a status carries it a few levels deeper.
    dev.errand.TaskStatus s =
        dev.errand.TaskStatus.pending("i").withCall(null, CallHistory.arguments(m), null);
    assertThat(Wire.decodeStatus(Wire.encodeStatus(s)).args()).isEqualTo(s.args());
  }

  private static void assertInvalid(String json, String reason) {
    assertThatThrownBy(() -> Wire.decodeMessage(json.getBytes(StandardCharsets.UTF_8)))
        .as(json)
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining(reason);
  }
}
