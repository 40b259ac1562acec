package dev.errand.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskDef;
import dev.errand.wire.Arguments;
import dev.errand.wire.PlainData;
import dev.errand.wire.Wire;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Objects;

/** Builds the calls of the built-in {@link Workflows#MAP_TASK}. */
final class MapCall {

  private MapCall() {}

  static <A, R> Signature<List<R>> of(TaskDef<A, R> task, List<A> items) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(items, "items");
    ArrayNode encoded = Wire.mapper().createArrayNode();
    for (int i = 0; i < items.size(); i++) {
      Arguments.Json json;
      try {
        json = Arguments.encode(task, items.get(i));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("item " + i + ": " + e.getMessage(), e);
      }
      encoded.add(item(json.args(), json.kwargs()));
    }
    Type listOfR =
        Wire.mapper().getTypeFactory().constructCollectionType(List.class, type(task.resultType()));
    return Signature.internal(Workflows.MAP_TASK, call(task.name(), encoded), listOfR);
  }

  static Signature<List<JsonNode>> byName(String task, List<List<Object>> items) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(items, "items");
    ArrayNode encoded = Wire.mapper().createArrayNode();
    for (int i = 0; i < items.size(); i++) {
      List<Object> item = Objects.requireNonNull(items.get(i), "item " + i);
      try {
        PlainData.check(item);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("item " + i + ": " + e.getMessage(), e);
      }
      encoded.add(item(Wire.mapper().valueToTree(item), null));
    }
    Type listOfJson =
        Wire.mapper().getTypeFactory().constructCollectionType(List.class, JsonNode.class);
    return Signature.internal(Workflows.MAP_TASK, call(task, encoded), listOfJson);
  }

  private static ObjectNode item(JsonNode args, JsonNode kwargs) {
    ObjectNode item = Wire.mapper().createObjectNode();
    if (args != null && !args.isEmpty()) {
      item.set("args", args);
    }
    if (kwargs != null && !kwargs.isEmpty()) {
      item.set("kwargs", kwargs);
    }
    return item;
  }

  private static Arguments.Json call(String task, ArrayNode items) {
    ObjectNode kwargs = Wire.mapper().createObjectNode();
    kwargs.put("task", task);
    kwargs.set("items", items);
    return new Arguments.Json(Wire.mapper().createArrayNode(), kwargs);
  }

  private static com.fasterxml.jackson.databind.JavaType type(Type t) {
    return Wire.mapper().getTypeFactory().constructType(t);
  }
}
