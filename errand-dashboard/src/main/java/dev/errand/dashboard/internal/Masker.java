package dev.errand.dashboard.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Replaces the values of arguments whose names look secret with {@value #MASK}, at any depth. */
final class Masker {

  static final String MASK = "****";

  private final List<String> parts;

  Masker(List<String> names) {
    this.parts = names.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
  }

  /** A masked copy of {@code node} (null stays null). */
  JsonNode mask(JsonNode node) {
    if (node == null || parts.isEmpty()) {
      return node;
    }
    JsonNode copy = node.deepCopy();
    walk(copy);
    return copy;
  }

  private void walk(JsonNode node) {
    if (node instanceof ObjectNode o) {
      Iterator<Map.Entry<String, JsonNode>> fields = o.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        if (secret(f.getKey()) && !f.getValue().isNull()) {
          f.setValue(o.textNode(MASK));
        } else {
          walk(f.getValue());
        }
      }
    } else if (node instanceof ArrayNode a) {
      a.forEach(this::walk);
    }
  }

  private boolean secret(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (String p : parts) {
      if (n.contains(p)) {
        return true;
      }
    }
    return false;
  }
}
