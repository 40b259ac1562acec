package dev.errand.dashboard.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.errand.wire.Wire;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces secret-looking values with {@value #MASK} in everything the dashboard sends: every field
 * of a JSON tree whose name looks secret, at any depth; JSON held in a string (a dead letter's raw
 * body, a result that is a JSON text), parsed and masked the same way; and in any other text
 * (errors, tracebacks, bodies that are not JSON) {@code name=value}, {@code name: value} and {@code
 * "name": "value"} pairs with a secret name, and the password of a URL's user info.
 *
 * <p>A name looks secret if, in lower case and without {@code _ - .} and spaces, it contains one of
 * the listed names normalised the same way: {@code api_key}, {@code apiKey} and {@code API-KEY} all
 * match {@code api key}. Thread-safe.
 */
final class Masker {

  static final String MASK = "****";

  /** How deep JSON held in strings (held in strings...) is unpacked. */
  private static final int MAX_DEPTH = 8;

  /**
   * A name (optionally quoted, also with escaped quotes as in JSON inside a log line), {@code :} or
   * {@code =}, and its value: a quoted string, or an optional auth scheme and a run of characters
   * up to a separator. The name may hold spaces so that "Your password: x" is caught.
   */
  private static final Pattern PAIR =
      Pattern.compile(
          "(?<name>[A-Za-z][A-Za-z0-9_.\\- ]{0,48}?)(?<close>\\\\?[\"'])?(?<sep>\\s*[:=]\\s*)"
              + "(?<value>\\\\?\"(?:[^\"\\\\]|\\\\(?!\"))*\\\\?\"|'[^']*'"
              + "|(?:(?i:bearer|basic|token|digest)\\s+)?[^\\s,;&\"'<>{}\\[\\]]+)");

  /** {@code scheme://user:password@host}: the password goes. */
  private static final Pattern USER_INFO =
      Pattern.compile("(?<prefix>[A-Za-z][A-Za-z0-9+.\\-]*://[^:/@\\s]*):(?<password>[^@/\\s]+)@");

  private final List<String> parts;

  /**
   * @param names names whose values are masked, each non-blank
   * @throws IllegalArgumentException naming a blank name, which would mask everything
   */
  Masker(List<String> names) {
    this.parts =
        names.stream()
            .map(
                n -> {
                  String p = normalise(n);
                  if (p.isEmpty()) {
                    throw new IllegalArgumentException(
                        "a name to mask must hold a letter or digit but was '" + n + "'");
                  }
                  return p;
                })
            .distinct()
            .toList();
  }

  /** A masked copy of {@code node} (null stays null); {@code node} is not changed. */
  JsonNode mask(JsonNode node) {
    if (node == null || parts.isEmpty()) {
      return node;
    }
    return walk(node.deepCopy(), 0);
  }

  /** {@code text} masked: as JSON if it is a JSON object or array, otherwise as plain text. */
  String mask(String text) {
    if (text == null || parts.isEmpty()) {
      return text;
    }
    return maskString(text, 0);
  }

  /** Whether a field called {@code name} holds a secret. */
  boolean secret(String name) {
    String n = normalise(name);
    for (String p : parts) {
      if (n.contains(p)) {
        return true;
      }
    }
    return false;
  }

  /** Masks {@code node} in place and returns it (or the text node replacing it). */
  private JsonNode walk(JsonNode node, int depth) {
    if (node instanceof ObjectNode o) {
      Iterator<Map.Entry<String, JsonNode>> fields = o.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        if (secret(f.getKey()) && !f.getValue().isNull()) {
          f.setValue(TextNode.valueOf(MASK));
        } else {
          f.setValue(walk(f.getValue(), depth));
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        a.set(i, walk(a.get(i), depth));
      }
    } else if (node.isTextual()) {
      String masked = maskString(node.asText(), depth);
      if (!masked.equals(node.asText())) {
        return TextNode.valueOf(masked);
      }
    }
    return node;
  }

  private String maskString(String text, int depth) {
    String t = text.strip();
    if (depth < MAX_DEPTH
        && (t.startsWith("{") && t.endsWith("}") || t.startsWith("[") && t.endsWith("]"))) {
      JsonNode parsed = null;
      try {
        parsed = Wire.mapper().readTree(t);
      } catch (Exception notJson) {
        // masked as text below
      }
      if (parsed != null && parsed.isContainerNode()) {
        String before = parsed.toString();
        String after = walk(parsed, depth + 1).toString();
        // Unchanged JSON keeps its own layout, so nothing is reformatted for no reason.
        return after.equals(before) ? text : after;
      }
    }
    return maskText(text);
  }

  /** Masks secret {@code name=value} pairs and URL passwords in free text. */
  private String maskText(String text) {
    if (text.indexOf(':') < 0 && text.indexOf('=') < 0) {
      return text;
    }
    Matcher m = PAIR.matcher(text);
    StringBuilder out = null;
    int last = 0;
    int from = 0;
    while (from < text.length() && m.find(from)) {
      if (!secret(m.group("name")) || m.group("value").endsWith(MASK)) {
        // The value may itself hold a pair ("request: password=x"): look inside it too.
        from = m.end("sep");
        continue;
      }
      if (out == null) {
        out = new StringBuilder(text.length());
      }
      out.append(text, last, m.start("value")).append(maskedValue(m.group("value")));
      last = m.end("value");
      from = last;
    }
    String paired = out == null ? text : out.append(text, last, text.length()).toString();
    Matcher u = USER_INFO.matcher(paired);
    return u.find() ? u.replaceAll("${prefix}:" + MASK + "@") : paired;
  }

  /** The value replaced by the mask, keeping the quotes around it. */
  private static String maskedValue(String value) {
    if (value.startsWith("\\\"")) {
      return "\\\"" + MASK + "\\\"";
    }
    if (value.startsWith("\"") || value.startsWith("'")) {
      char q = value.charAt(0);
      return q + MASK + q;
    }
    return MASK;
  }

  private static String normalise(String name) {
    StringBuilder b = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c != '_' && c != '-' && c != '.' && !Character.isWhitespace(c)) {
        b.append(c);
      }
    }
    return b.toString().toLowerCase(Locale.ROOT);
  }
}
