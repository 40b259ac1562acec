package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The streaming writers must write byte for byte what the shared mapper writes. */
class HotPathJsonTest {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final Random random = new Random(42);

  @Test
  void statusesAreWrittenExactlyAsTheMapperWritesThem() throws Exception {
    for (int i = 0; i < 5_000; i++) {
      TaskStatus s = randomStatus();
      assertThat(new String(Wire.encodeStatus(s), "UTF-8"))
          .isEqualTo(Wire.mapper().writeValueAsString(s));
      assertThat(Wire.decodeStatus(Wire.encodeStatus(s))).isEqualTo(s);
    }
  }

  @Test
  void eventsAreWrittenExactlyAsTheMapperWritesThem() throws Exception {
    for (int i = 0; i < 5_000; i++) {
      Event e = randomEvent();
      assertThat(new String(Wire.encodeEvent(e), "UTF-8"))
          .isEqualTo(Wire.mapper().writeValueAsString(e));
      assertThat(Wire.decodeEvent(Wire.encodeEvent(e))).isEqualTo(e);
    }
  }

  @Test
  void textThatNeedsEscapingIsEscapedTheSameWay() throws Exception {
    TaskStatus s =
        TaskStatus.pending("id \"quoted\" \\ back\nslash \u2028 \u00e9\u0001")
            .withError(new TaskError("Boom", "line 1\nline 2\t\"x\"", "at a.b(C.java:1)\n"));
    assertThat(new String(Wire.encodeStatus(s), "UTF-8"))
        .isEqualTo(Wire.mapper().writeValueAsString(s));
  }

  private TaskStatus randomStatus() {
    TaskState[] states = TaskState.values();
    return new TaskStatus(
        "id-" + random.nextInt(),
        maybe("task.name"),
        states[random.nextInt(states.length)],
        maybe("queue-" + random.nextInt(5)),
        maybeNode(),
        random.nextInt(4) == 0
            ? new TaskError("Err" + random.nextInt(9), maybe("message"), maybe("trace\n  at x"))
            : null,
        maybeNode(),
        maybe("a reason"),
        random.nextInt(100),
        maybe("w1@host"),
        maybeInstant(),
        maybeInstant(),
        maybeInstant(),
        maybeInstant(),
        maybeInstant(),
        maybe("parent-" + random.nextInt()),
        maybeNode(),
        random.nextInt(3) == 0
            ? java.util.List.of(
                new TaskStatus.Retry(
                    1,
                    Instant.ofEpochSecond(7),
                    new TaskError("IOException", maybe("refused"), null)),
                new TaskStatus.Retry(
                    2, Instant.ofEpochSecond(9, 5), new TaskError("Timeout", null, null)))
            : null);
  }

  private Event randomEvent() {
    EventType[] types = EventType.values();
    Instant time =
        Instant.ofEpochSecond(random.nextInt(2_000_000_000), random.nextInt(1_000_000_000));
    return new Event(
        random.nextInt(3) == 0 ? 0 : Math.abs(random.nextLong()),
        types[random.nextInt(types.length)],
        time,
        maybe("task-id"),
        maybe("task.name"),
        maybe("w1@host"),
        maybe("q"),
        maybeNode());
  }

  private String maybe(String s) {
    return random.nextBoolean() ? s : null;
  }

  private Instant maybeInstant() {
    if (random.nextInt(3) == 0) {
      return null;
    }
    long nanos = random.nextBoolean() ? 0 : random.nextInt(1_000_000_000);
    return Instant.ofEpochSecond(random.nextInt(2_000_000_000), nanos);
  }

  private JsonNode maybeNode() {
    switch (random.nextInt(6)) {
      case 0:
        return null;
      case 1:
        return NullNode.getInstance();
      case 2:
        return NODES.numberNode(random.nextDouble());
      case 3:
        return NODES.textNode("t\"" + random.nextInt());
      case 4:
        ObjectNode o = NODES.objectNode();
        o.put("done", random.nextInt(100)).put("of", 100).putArray("list").add(1).add("x");
        o.putNull("none");
        return o;
      default:
        return NODES.arrayNode().add(true).add(NODES.objectNode().put("k", "v"));
    }
  }
}
