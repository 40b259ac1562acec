package dev.errand.cli.internal.demo;

import dev.errand.DeadLetter;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskState;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Help.Ansi;

/**
 * The demo's live screen: counts by state, the export's progress bar, and the latest retries and
 * failures. On a terminal it redraws in place; otherwise it prints a line per refresh.
 */
final class DemoView {

  private static final int FEED = 6;

  private final PrintWriter out;
  private final Ansi ansi;
  private final boolean redraw;
  private final Deque<String> feed = new ArrayDeque<>();
  private int drawnLines;

  DemoView(PrintWriter out, Ansi ansi, boolean redraw) {
    this.out = out;
    this.ansi = ansi;
    this.redraw = redraw;
  }

  /** Adds noteworthy events (retries, failures, dead letters) to the feed. */
  void events(List<Event> events) {
    for (Event e : events) {
      String line =
          switch (e.type()) {
            case TASK_RETRIED ->
                "@|yellow retry|@   "
                    + e.taskName()
                    + "  "
                    + text(e, "error")
                    + " (next in "
                    + eta(e)
                    + ")";
            case TASK_FAILED ->
                "@|red failed|@  "
                    + (e.taskName() == null ? "(undecodable message)" : e.taskName())
                    + "  "
                    + text(e, "error");
            case TASK_DEAD_LETTERED ->
                "@|magenta dead letter|@  "
                    + (e.taskName() == null ? e.taskId() : e.taskName())
                    + "  reason "
                    + text(e, "reason");
            default -> null;
          };
      if (line != null && e.type() != EventType.TASK_PROGRESS) {
        feed.addLast(line);
        while (feed.size() > FEED) {
          feed.removeFirst();
        }
      }
    }
  }

  void draw(Map<TaskState, Integer> counts, int total, double exportProgress, double seconds) {
    StringBuilder s = new StringBuilder();
    int lines = 0;
    s.append(ansi.string(String.format("@|bold Errand demo|@  %.1fs  %d tasks%n", seconds, total)));
    lines++;
    StringBuilder c = new StringBuilder("  ");
    for (TaskState state : TaskState.values()) {
      int n = counts.getOrDefault(state, 0);
      if (n > 0 || state == TaskState.SUCCESS || state == TaskState.FAILURE) {
        c.append(color(state)).append(' ').append(n).append("   ");
      }
    }
    s.append(ansi.string(c.toString().stripTrailing())).append(System.lineSeparator());
    lines++;
    int width = 30;
    int filled = (int) Math.round(exportProgress * width);
    s.append(
        ansi.string(
            String.format(
                "  export orders-2026-11.csv  [@|green %s|@%s] %3.0f%%%n",
                "#".repeat(filled), ".".repeat(width - filled), exportProgress * 100)));
    lines++;
    s.append("  latest:").append(System.lineSeparator());
    lines++;
    for (int i = 0; i < FEED; i++) {
      String line = i < feed.size() ? "    " + feed.toArray(new String[0])[i] : "";
      s.append(ansi.string(line)).append("\033[K").append(System.lineSeparator());
      lines++;
    }
    if (redraw) {
      if (drawnLines > 0) {
        out.print("\033[" + drawnLines + "A\r");
      }
      out.print(s.toString().replace(System.lineSeparator(), "\033[K" + System.lineSeparator()));
      drawnLines = lines;
    } else {
      StringBuilder compact = new StringBuilder(String.format("[%5.1fs]", seconds));
      counts.forEach((k, v) -> compact.append(' ').append(k).append('=').append(v));
      compact.append(String.format(" export=%.0f%%", exportProgress * 100));
      out.println(compact);
    }
    out.flush();
  }

  void summary(
      Map<TaskState, Integer> counts,
      int retries,
      List<DeadLetter> dead,
      String exportFile,
      double highMeanMs,
      double lowMeanMs,
      double seconds,
      String brokerUrl) {
    out.println();
    out.println(ansi.string("@|bold Summary|@ after " + String.format("%.1f", seconds) + " s"));
    StringBuilder c = new StringBuilder("  outcomes:      ");
    counts.forEach((k, v) -> c.append(color(k)).append(' ').append(v).append("  "));
    out.println(ansi.string(c.toString().stripTrailing()));
    out.println(
        "  retries:       "
            + retries
            + " failed email attempts were retried with backoff (in the broker, not in memory)");
    out.println("  export:        " + (exportFile == null ? "not finished" : exportFile));
    if (highMeanMs > 0) {
      out.println(
          String.format(
              "  priority:      the 10 priority-9 thumbnails finished after %.0f ms on average, the 30 priority-1 ones after %.0f ms, though sent last",
              highMeanMs, lowMeanMs));
    }
    out.println("  dead letters:  " + dead.size());
    for (DeadLetter d : dead) {
      out.println(
          ansi.string(
              "    @|magenta "
                  + d.reason()
                  + "|@  "
                  + (d.taskName() == null ? d.id() : d.taskName())
                  + "  "
                  + d.error()));
    }
    out.println();
    out.println("Look around (the demo's data stays in the backend):");
    out.println("  ./errand inspect queues --broker " + brokerUrl);
    out.println("  ./errand dlq list --broker " + brokerUrl);
    out.println("  ./errand inspect events --broker " + brokerUrl);
    out.println(
        "  ./errand dashboard --broker " + brokerUrl + "      # then open http://127.0.0.1:5555");
    out.flush();
  }

  private static String color(TaskState state) {
    String style =
        switch (state) {
          case SUCCESS -> "green";
          case FAILURE -> "red";
          case REVOKED -> "magenta";
          case RETRY -> "yellow";
          default -> "cyan";
        };
    return "@|" + style + " " + state + "|@";
  }

  private static String text(Event e, String field) {
    return e.data() != null && e.data().has(field) ? e.data().get(field).asText() : "";
  }

  private static String eta(Event e) {
    if (e.data() == null || !e.data().has("eta")) {
      return "?";
    }
    long ms =
        java.time.Duration.between(e.time(), java.time.Instant.parse(e.data().get("eta").asText()))
            .toMillis();
    return Math.max(0, ms) + " ms";
  }
}
