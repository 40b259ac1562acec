package dev.errand.dashboard.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.wire.Wire;
import io.javalin.json.JavalinJackson;
import io.javalin.json.JsonMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.util.stream.Stream;

/**
 * The JSON mapper of every API answer: it writes through the {@link Masker}, so no endpoint, old or
 * new, can send a secret by forgetting to mask it. Reading is plain.
 */
final class MaskingJsonMapper implements JsonMapper {

  private final JavalinJackson json = new JavalinJackson(Wire.mapper(), false);
  private final Masker masker;

  MaskingJsonMapper(Masker masker) {
    this.masker = masker;
  }

  /** {@code value} as a masked JSON tree; a tree given is copied, not changed. */
  JsonNode tree(Object value) {
    return value instanceof JsonNode n
        ? masker.mask(n)
        : masker.maskOwned(Wire.mapper().valueToTree(value));
  }

  @Override
  public String toJsonString(Object obj, Type type) {
    return json.toJsonString(tree(obj), JsonNode.class);
  }

  @Override
  public InputStream toJsonStream(Object obj, Type type) {
    return json.toJsonStream(tree(obj), JsonNode.class);
  }

  @Override
  public void writeToOutputStream(Stream<?> stream, OutputStream out) {
    json.writeToOutputStream(stream.map(this::tree), out);
  }

  @Override
  public <T> T fromJsonString(String text, Type type) {
    return json.fromJsonString(text, type);
  }

  @Override
  public <T> T fromJsonStream(InputStream in, Type type) {
    return json.fromJsonStream(in, type);
  }
}
