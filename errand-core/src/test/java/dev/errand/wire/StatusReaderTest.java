package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.InvalidMessageException;
import dev.errand.TaskError;
import dev.errand.TaskStatus;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The streaming status reader reads exactly what the mapper reads, or leaves it to the mapper. */
class StatusReaderTest {

  private final RandomStatuses random = new RandomStatuses(7);

  @Test
  void readsEveryStatusTheWriterWritesAsTheMapperDoes() throws Exception {
    for (int i = 0; i < 5_000; i++) {
      TaskStatus s = random.status();
      byte[] json = Wire.encodeStatus(s);
      TaskStatus fast = StatusReader.read(Wire.mapper(), json, 0, json.length);
      assertThat(fast)
          .as("read by the fast path: %s", new String(json, StandardCharsets.UTF_8))
          .isNotNull();
      assertThat(fast).isEqualTo(Wire.mapper().readValue(json, TaskStatus.class)).isEqualTo(s);
    }
  }

  @Test
  void anOutcomeOnlyReadKeepsTheOutcomeFieldsAndLeavesTheRestOut() throws Exception {
    for (int i = 0; i < 2_000; i++) {
      TaskStatus s = random.status();
      byte[] json = Wire.encodeStatus(s);
      TaskStatus o = Wire.decodeOutcome(json, 0, json.length);
      assertThat(o)
          .isEqualTo(
              new TaskStatus(
                  s.id(),
                  s.name(),
                  s.state(),
                  null,
                  s.result(),
                  s.error(),
                  null,
                  s.reason(),
                  0,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null));
    }
  }

  @Test
  void readsAStatusInsideALargerArrayWithoutCopyingIt() {
    TaskStatus s = TaskStatus.pending("t-1").withError(new TaskError("E", "m", null));
    byte[] json = Wire.encodeStatus(s);
    byte[] stored = new byte[json.length + 20];
    byte[] prefix = "1796293070042\n".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(prefix, 0, stored, 0, prefix.length);
    System.arraycopy(json, 0, stored, prefix.length, json.length);
    assertThat(Wire.decodeStatus(stored, prefix.length, json.length)).isEqualTo(s);
  }

  /** Input the fast path is unsure of: the mapper's answer, whatever it is, is the answer. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"extra\":{\"deep\":[1,{\"x\":null}]},\"result\":7}",
        "{\"id\":5,\"state\":\"SUCCESS\"}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"attempt\":\"3\"}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"attempt\":3.0}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\"} trailing",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"retries\":[{\"at\":\"1970-01-01T00:00:07Z\","
            + "\"error\":{\"type\":\"E\"}}]}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"retries\":[]}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"error\":null,\"retries\":null,\"name\":null}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"updatedAt\":\"2026-12-03T10:07:50+01:00\"}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"id\":\"b\"}",
      })
  void inputTheFastPathIsUnsureOfIsReadByTheMapper(String json) throws Exception {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    TaskStatus fast = StatusReader.read(Wire.mapper(), bytes, 0, bytes.length);
    TaskStatus mapper = Wire.mapper().readValue(bytes, TaskStatus.class);
    if (fast != null) {
      assertThat(fast).isEqualTo(mapper);
    }
    assertThat(Wire.decodeStatus(bytes)).isEqualTo(mapper);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "[]",
        "{\"id\":\"a\"}",
        "{\"state\":\"SUCCESS\"}",
        "{\"id\":\"a\",\"state\":\"NO_SUCH_STATE\"}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"updatedAt\":\"yesterday\"}",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"result\":",
        "{\"id\":\"a\",\"state\":\"SUCCESS\",\"retries\":[{\"attempt\":1}]}",
        "\u0000\u0001garbage",
      })
  void malformedStatusesFailAsTheMapperFailsThem(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    assertThat(StatusReader.read(Wire.mapper(), bytes, 0, bytes.length)).isNull();
    assertThatThrownBy(() -> Wire.decodeStatus(bytes))
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageStartingWith("invalid TaskStatus JSON: ");
  }
}
