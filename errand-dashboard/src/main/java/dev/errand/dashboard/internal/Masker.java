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

  /** The longest name looked at before a {@code :} or {@code =}. */
  private static final int MAX_NAME = 48;

  /** Auth schemes whose next word is the secret: {@code Authorization: Bearer <token>}. */
  private static final List<String> SCHEMES = List.of("bearer", "basic", "token", "digest");

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

  /** {@code node} masked in place, for a tree no one else holds; returns the masked tree. */
  JsonNode maskOwned(JsonNode node) {
    if (node == null || parts.isEmpty()) {
      return node;
    }
    return walk(node, 0);
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
    // The pattern costs some hundred steps a character; most text (a long traceback) names no
    // secret at all, which one pass over it tells.
    String paired = mentionsSecret(text) ? maskPairs(text) : text;
    if (paired.indexOf("://") < 0 || paired.indexOf('@') < 0) {
      return paired;
    }
    Matcher u = USER_INFO.matcher(paired);
    return u.find() ? u.replaceAll("${prefix}:" + MASK + "@") : paired;
  }

  private boolean mentionsSecret(String text) {
    String n = normalise(text);
    for (String p : parts) {
      if (n.contains(p)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Masks the value after each {@code :} or {@code =} whose name looks secret. The name is the last
   * word before it (a quote around it allowed, also an escaped one), or its last two words, so that
   * "api key: x" and "Your password: x" are caught but "the token expired at 10:32" is not.
   */
  private String maskPairs(String text) {
    StringBuilder out = null;
    int last = 0;
    int n = text.length();
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if ((c != ':' && c != '=') || !secretName(text, i)) {
        continue;
      }
      int v = i + 1;
      while (v < n && Character.isWhitespace(text.charAt(v))) {
        v++;
      }
      int end = valueEnd(text, v);
      if (end <= v || text.startsWith(MASK, end - MASK.length())) {
        continue;
      }
      if (out == null) {
        out = new StringBuilder(n + 16);
      }
      out.append(text, last, v).append(maskedValue(text.substring(v, end)));
      last = end;
      i = end - 1;
    }
    return out == null ? text : out.append(text, last, n).toString();
  }

  /** Whether the name before the separator at {@code sep} looks secret. */
  private boolean secretName(String text, int sep) {
    int end = sep;
    while (end > 0 && Character.isWhitespace(text.charAt(end - 1))) {
      end--;
    }
    if (end > 0 && (text.charAt(end - 1) == '"' || text.charAt(end - 1) == '\'')) {
      end--;
      if (end > 0 && text.charAt(end - 1) == '\\') {
        end--;
      }
    }
    int start = end;
    int words = 0;
    while (start > 0 && end - start < MAX_NAME) {
      char c = text.charAt(start - 1);
      if (c == ' ' && ++words == 2) {
        break;
      }
      if (c != ' ' && c != '_' && c != '-' && c != '.' && !Character.isLetterOrDigit(c)) {
        break;
      }
      start--;
    }
    if (start == end) {
      return false;
    }
    String name = text.substring(start, end).strip();
    int space = name.lastIndexOf(' ');
    return secret(name.substring(space + 1)) || space >= 0 && secret(name);
  }

  /** Where the value starting at {@code v} ends: a quoted string, or a run up to a separator. */
  private static int valueEnd(String text, int v) {
    int n = text.length();
    if (v >= n) {
      return -1;
    }
    char c = text.charAt(v);
    if (c == '\\' && text.startsWith("\\\"", v)) {
      int close = text.indexOf("\\\"", v + 2);
      return close < 0 ? -1 : close + 2;
    }
    if (c == '"') {
      for (int j = v + 1; j < n; j++) {
        char d = text.charAt(j);
        if (d == '\\') {
          j++;
        } else if (d == '"') {
          return j + 1;
        }
      }
      return -1;
    }
    if (c == '\'') {
      int close = text.indexOf('\'', v + 1);
      return close < 0 ? -1 : close + 1;
    }
    int j = v;
    for (String scheme : SCHEMES) {
      int after = v + scheme.length();
      if (text.regionMatches(true, v, scheme, 0, scheme.length())
          && after < n
          && Character.isWhitespace(text.charAt(after))) {
        j = after;
        while (j < n && Character.isWhitespace(text.charAt(j))) {
          j++;
        }
        break;
      }
    }
    int start = j;
    while (j < n
        && !Character.isWhitespace(text.charAt(j))
        && ",;&\"'<>{}[]".indexOf(text.charAt(j)) < 0) {
      j++;
    }
    return j == start ? -1 : j;
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
