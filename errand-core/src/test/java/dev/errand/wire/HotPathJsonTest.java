package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskError;
import dev.errand.TaskStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streaming writers must write byte for byte what the shared mapper writes. */
class HotPathJsonTest {

  private final RandomStatuses random = new RandomStatuses(42);

  @Test
  void statusesAreWrittenExactlyAsTheMapperWritesThem() throws Exception {
    for (int i = 0; i < 5_000; i++) {
      TaskStatus s = random.status();
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
  void eventLinesAreEachEventWithSequenceZeroOnALineOfItsOwn() throws Exception {
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      events.add(randomEvent());
    }
    for (int[] range : new int[][] {{0, 300}, {17, 18}, {40, 299}}) {
      List<String> lines = new ArrayList<>();
      for (Event e : events.subList(range[0], range[1])) {
        lines.add(Wire.mapper().writeValueAsString(e.withSeq(0)));
      }
      assertThat(new String(Wire.encodeEventLines(events, range[0], range[1]), "UTF-8"))
          .isEqualTo(String.join("\n", lines));
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

  private Event randomEvent() {
    EventType[] types = EventType.values();
    Instant time =
        Instant.ofEpochSecond(
            random.random().nextInt(2_000_000_000), random.random().nextInt(1_000_000_000));
    return new Event(
        random.random().nextInt(3) == 0 ? 0 : Math.abs(random.random().nextLong()),
        types[random.random().nextInt(types.length)],
        time,
        random.maybe("task-id"),
        random.maybe("task.name"),
        random.maybe("w1@host"),
        random.maybe("q"),
        random.maybeNode());
  }
}
