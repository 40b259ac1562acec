package dev.errand.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.InvalidMessageException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArgumentsTest {

  record Point(int x, int y, String label) {}

  static TaskMessage message(String argsJson, String kwargsJson) throws Exception {
    return new TaskMessage(
        1,
        "id-1",
        "geo.plot",
        argsJson == null
            ? null
            : (com.fasterxml.jackson.databind.node.ArrayNode) Wire.mapper().readTree(argsJson),
        kwargsJson == null
            ? null
            : (com.fasterxml.jackson.databind.node.ObjectNode) Wire.mapper().readTree(kwargsJson),
        "default",
        5,
        null,
        null,
        0,
        Instant.EPOCH,
        null,
        Map.of(),
        null);
  }

  @Test
  void recordTravelsAsKeywordArgumentsKeepingNulls() {
    Arguments.Json json = Arguments.encode(new Point(1, 2, null));
    assertThat(json.args()).isEmpty();
    assertThat(json.kwargs().get("x").asInt()).isEqualTo(1);
    assertThat(json.kwargs().has("label")).isTrue();
    assertThat(json.kwargs().get("label").isNull()).isTrue();
  }

  @Test
  void otherValuesTravelAsOnePositionalArgument() {
    assertThat(Arguments.encode("hello").args().get(0).asText()).isEqualTo("hello");
    assertThat(Arguments.encode(List.of(1, 2)).args().get(0).size()).isEqualTo(2);
    assertThat(Arguments.encode(null).args()).isEmpty();
  }

  @Test
  void bindsKeywordPositionalAndMixedArgumentsToARecord() throws Exception {
    assertThat(Arguments.bind(message(null, "{\"x\":1,\"y\":2,\"label\":\"a\"}"), Point.class))
        .isEqualTo(new Point(1, 2, "a"));
    assertThat(Arguments.bind(message("[1,2,\"b\"]", null), Point.class))
        .isEqualTo(new Point(1, 2, "b"));
    assertThat(Arguments.bind(message("[1]", "{\"y\":5,\"label\":\"c\"}"), Point.class))
        .isEqualTo(new Point(1, 5, "c"));
    assertThat(Arguments.bind(message(null, "{\"x\":1,\"y\":2,\"extra\":9}"), Point.class))
        .isEqualTo(new Point(1, 2, null));
  }

  @Test
  void refusesArgumentsThatDoNotFitNamingTheTask() {
    assertThatThrownBy(() -> Arguments.bind(message("[1,2,\"a\",4]", null), Point.class))
        .isInstanceOf(InvalidMessageException.class)
        .hasMessage("geo.plot(): takes 3 positional arguments but 4 were given");
    assertThatThrownBy(() -> Arguments.bind(message("[1]", "{\"x\":2}"), Point.class))
        .hasMessage("geo.plot(): got multiple values for argument 'x'");
    assertThatThrownBy(() -> Arguments.bind(message(null, "{\"x\":\"one\"}"), Point.class))
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining("arguments do not fit");
  }

  @Test
  void bindsNonRecordTypes() throws Exception {
    assertThat(Arguments.bind(message("[\"s\"]", null), String.class)).isEqualTo("s");
    assertThat(Arguments.bind(message("[7]", null), Integer.class)).isEqualTo(7);
    assertThat(
            Arguments.bind(
                message("[\"a\",\"b\"]", null), new TypeReference<List<String>>() {}.getType()))
        .isEqualTo(List.of("a", "b"));
    assertThat(Arguments.bind(message("[1]", null), Void.class)).isNull();
    JsonNode raw = (JsonNode) Arguments.bind(message(null, "{\"k\":1}"), JsonNode.class);
    assertThat(raw.get("k").asInt()).isEqualTo(1);
  }

  @Test
  void resultsRoundTripIncludingGenericTypes() {
    JsonNode json = Arguments.encodeResult(List.of(new Point(1, 2, "p")));
    Object back =
        Arguments.decodeResult(json, new TypeReference<List<Point>>() {}.getType(), "id-1");
    assertThat(back).isEqualTo(List.of(new Point(1, 2, "p")));
    assertThat(Arguments.decodeResult(Arguments.encodeResult(null), Void.class, "id")).isNull();
  }
}
