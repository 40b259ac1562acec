package dev.errand.cli.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --json} and the printing shared by commands: aligned tables for people (colors only on a
 * terminal), JSON for scripts.
 */
final class OutputOptions {

  @Option(names = "--json", description = "Print JSON for scripts instead of tables.")
  boolean json;

  /** Prints {@code value} as pretty JSON. */
  static void printJson(PrintWriter out, Object value) {
    try {
      out.println(Wire.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot print JSON", e);
    }
    out.flush();
  }

  /** Prints an aligned table; a cell may hold picocli markup such as {@code @|red x|@}. */
  static void printTable(
      CommandLine.Help.Ansi ansi, PrintWriter out, List<String> headers, List<List<String>> rows) {
    int[] width = new int[headers.size()];
    List<List<String>> plain = new ArrayList<>();
    for (List<String> row : rows) {
      List<String> p = new ArrayList<>();
      for (String cell : row) {
        p.add(CommandLine.Help.Ansi.OFF.string(cell == null ? "" : cell));
      }
      plain.add(p);
    }
    for (int i = 0; i < headers.size(); i++) {
      width[i] = headers.get(i).length();
      for (List<String> p : plain) {
        width[i] = Math.max(width[i], p.get(i).length());
      }
    }
    StringBuilder head = new StringBuilder();
    for (int i = 0; i < headers.size(); i++) {
      head.append(pad(headers.get(i), width[i], i == headers.size() - 1));
    }
    out.println(ansi.string("@|bold " + head.toString().stripTrailing() + "|@"));
    for (int r = 0; r < rows.size(); r++) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < headers.size(); i++) {
        String cell = rows.get(r).get(i) == null ? "" : rows.get(r).get(i);
        int visible = plain.get(r).get(i).length();
        line.append(ansi.string(cell));
        if (i < headers.size() - 1) {
          line.append(" ".repeat(width[i] - visible + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  private static String pad(String s, int width, boolean last) {
    return last ? s : s + " ".repeat(width - s.length() + 2);
  }

  /**
   * {@code s}, which anyone may have chosen (a limit key made from a task's argument), safe to put
   * in a table cell: control characters (a terminal's escape sequences among them) show as {@code
   * ?}, and picocli's markup ({@code @|red x|@}) as text.
   */
  static String plain(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return b.toString().replace("@|", "@ |");
  }

  /** A short age such as {@code 3s}, {@code 4m12s}, {@code 2h5m}, or "-" when unknown. */
  static String age(Instant then, Instant now) {
    if (then == null) {
      return "-";
    }
    Duration d = Duration.between(then, now);
    if (d.isNegative()) {
      d = Duration.ZERO;
    }
    long s = d.getSeconds();
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m" + (s % 60) + "s";
    }
    if (s < 86400) {
      return (s / 3600) + "h" + (s % 3600 / 60) + "m";
    }
    return (s / 86400) + "d" + (s % 86400 / 3600) + "h";
  }
}
