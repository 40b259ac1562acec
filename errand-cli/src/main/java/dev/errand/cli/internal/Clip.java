package dev.errand.cli.internal;

import java.nio.charset.StandardCharsets;

/**
 * Cuts a long text for a person reading a terminal: the first {@code max} bytes (UTF-8, never
 * splitting a character), then a note of what was left out and the flag that shows it.
 */
final class Clip {

  private Clip() {}

  /** {@code text} itself when it fits in {@code maxBytes}, else its start and a note. */
  static String of(String text, int maxBytes, String fullFlag) {
    int total = text.getBytes(StandardCharsets.UTF_8).length;
    if (total <= maxBytes) {
      return text;
    }
    int bytes = 0;
    int end = 0;
    while (end < text.length()) {
      int cp = text.codePointAt(end);
      int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + size > maxBytes) {
        break;
      }
      bytes += size;
      end += Character.charCount(cp);
    }
    return text.substring(0, end)
        + "... ("
        + (total - bytes)
        + " more bytes; "
        + fullFlag
        + " to see all)";
  }
}
