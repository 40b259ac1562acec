package dev.errand.cli.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.wire.Wire;
import java.util.Locale;

/**
 * Reads the JSON an option is given ({@code --args}, {@code --kwargs}): exactly one JSON value of
 * the expected shape. Anything after that value ({@code [1,2] x}, {@code [1]]}, a second object) is
 * refused, as is a key given twice, rather than read as far as it makes sense and the rest dropped.
 */
final class JsonArgument {

  /** Jackson reads one value and stops there; the text after it is checked by {@link #read}. */
  private static final ObjectReader STRICT =
      Wire.mapper().reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private JsonArgument() {}

  /** A JSON array; null when {@code json} is null (the option was not given). */
  static ArrayNode array(String flag, String json) {
    JsonNode node = read(flag, json);
    if (node != null && !node.isArray()) {
      throw wrongShape(flag, node, "a JSON array like [1, 2]");
    }
    return (ArrayNode) node;
  }

  /** A JSON object; null when {@code json} is null. */
  static ObjectNode object(String flag, String json) {
    JsonNode node = read(flag, json);
    if (node != null && !node.isObject()) {
      throw wrongShape(flag, node, "a JSON object like {\"to\": \"a@b.c\"}");
    }
    return (ObjectNode) node;
  }

  /** A JSON array (positional arguments) or object (keyword arguments); null when not given. */
  static JsonNode arrayOrObject(String flag, String json) {
    JsonNode node = read(flag, json);
    if (node != null && !node.isArray() && !node.isObject()) {
      throw wrongShape(
          flag, node, "a JSON array (positional arguments) or object (keyword arguments)");
    }
    return node;
  }

  private static JsonNode read(String flag, String json) {
    if (json == null) {
      return null;
    }
    try (JsonParser p = STRICT.createParser(json)) {
      if (p.nextToken() == null) {
        throw new UsageException(flag + " is empty; give a JSON value");
      }
      JsonNode node = STRICT.readTree(p);
      // Read then check the end: a second value or a stray bracket must not be dropped unseen.
      int end = (int) Math.min(json.length(), p.currentLocation().getCharOffset());
      String rest = json.substring(end);
      if (!rest.isBlank()) {
        int at = end + (rest.length() - rest.stripLeading().length());
        throw new UsageException(
            flag
                + " must be one JSON value but has more after it at character "
                + (at + 1)
                + ": "
                + abbreviate(json.substring(at)));
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new UsageException(
          flag
              + " is not valid JSON near character "
              + (e.getLocation() == null ? "?" : e.getLocation().getCharOffset() + 1)
              + ": "
              + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static UsageException wrongShape(String flag, JsonNode node, String expected) {
    return new UsageException(
        flag
            + " must be "
            + expected
            + " but was "
            + node.getNodeType().name().toLowerCase(Locale.ROOT)
            + " "
            + abbreviate(node.toString()));
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
