package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.spi.Backend;
import dev.errand.workflow.WorkflowState;
import dev.errand.workflow.WorkflowState.Step;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code errand inspect workflow ID [--all] [--json]}: a sent workflow as a whole, from {@link
 * Client#workflow}. A large group (a 10,000-member chord) is one line per state, so the table stays
 * a screen long and prints at once; the task holding the workflow up is always listed on its own.
 */
@Command(
    name = "workflow",
    mixinStandardHelpOptions = true,
    description = {
      "A sent workflow as a whole: every task in order (position, name, role, state, id),",
      "the one holding it up marked, and a summary. A group of more than "
          + InspectWorkflowCommand.MAX_GROUP_TASKS_LISTED
          + " tasks is",
      "shown as one line per state with its count; --all lists each task.",
      "Exit 4 if no workflow has this id."
    })
final class InspectWorkflowCommand implements Callable<Integer> {

  /** A group with more tasks than this is shown as one line per state unless {@code --all}. */
  static final int MAX_GROUP_TASKS_LISTED = 20;

  static final List<String> HEADERS = List.of("POS", "TASK", "ROLE", "STATE", "ID", "");

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Parameters(
      index = "0",
      paramLabel = "ID",
      description = "The workflow's id: its group's for a group, else its last task's (as sent).")
  String id;

  @Option(
      names = "--all",
      description = "List every task of a large group too, instead of its counts per state.")
  boolean all;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    try (Backend b = backend.openReadOnly()) {
      WorkflowState w = read(b, id);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        OutputOptions.printJson(out, w);
        return 0;
      }
      // Decided once: AUTO asks again for every cell (a class lookup each time), 3 s of 10,000
      // rows.
      CommandLine.Help.Ansi ansi =
          InspectCommand.ansi(spec).enabled()
              ? CommandLine.Help.Ansi.ON
              : CommandLine.Help.Ansi.OFF;
      out.println(ansi.string(headline(w)));
      OutputOptions.printTable(ansi, out, HEADERS, rows(w, all));
      for (String line : footer(w, all)) {
        out.println(line);
      }
      out.flush();
    }
    return 0;
  }

  /** The workflow with {@code id}, or the "no such workflow" failure (exit 4). */
  static WorkflowState read(Backend b, String id) {
    return Client.builder(b).build().workflow(id).orElseThrow(() -> unknown(b, id));
  }

  /** The "no such workflow" failure, saying what a workflow's id is and when it expires. */
  static NotFoundException unknown(Backend b, String id) {
    String m =
        "no workflow with id "
            + id
            + " is known (a workflow's id is its group's, or its last task's as send returned it;"
            + " a workflow is kept "
            + DurationConverter.format(Client.DEFAULT_WORKFLOW_TTL)
            + " by default)";
    if (TaskRecords.known(b, id)) {
      m += "; a task has this id: errand inspect task " + id;
    }
    return new NotFoundException(m);
  }

  /** The first line: succeeded, stopped at a task, or waiting on one. */
  static String headline(WorkflowState w) {
    String head = "@|bold workflow " + text(w.id()) + "|@  ";
    Step blocked = blocking(w);
    if (blocked == null) {
      return head + "@|green succeeded|@ (" + tasks(w.steps().size()) + ")";
    }
    String at =
        text(blocked.position())
            + " "
            + text(blocked.task())
            + " ["
            + text(blocked.taskId())
            + "]: "
            + StateColors.colored(blocked.state());
    return head + (w.stopped() ? "@|red stopped|@ at " : "@|yellow waiting|@ on ") + at;
  }

  /** The table's rows: each task, or for a large group (unless {@code all}) its counts. */
  static List<List<String>> rows(WorkflowState w, boolean all) {
    Step blocked = blocking(w);
    Set<String> collapsed = all ? Set.of() : collapsedGroups(w);
    Set<String> shown = new HashSet<>();
    List<List<String>> rows = new ArrayList<>();
    for (Step s : w.steps()) {
      if (s.group() == null || !collapsed.contains(s.group())) {
        rows.add(row(s, s == blocked ? mark(w) : ""));
      } else if (shown.add(s.group())) {
        rows.addAll(groupRows(w, s.group(), blocked));
      }
    }
    return rows;
  }

  /** The lines under the table: the counts per state, and how to see a collapsed group whole. */
  static List<String> footer(WorkflowState w, boolean all) {
    Map<TaskState, Integer> counts = new EnumMap<>(TaskState.class);
    for (Step s : w.steps()) {
      counts.merge(s.state(), 1, Integer::sum);
    }
    List<String> perState = new ArrayList<>();
    counts.forEach((state, n) -> perState.add(number(n) + " " + state));
    List<String> lines = new ArrayList<>();
    lines.add(tasks(w.steps().size()) + ": " + String.join(", ", perState));
    if (!all) {
      Map<String, Integer> sizes = groupSizes(w);
      Set<String> collapsed = collapsedGroups(w);
      Set<String> told = new HashSet<>();
      for (Step s : w.steps()) {
        if (s.group() != null && collapsed.contains(s.group()) && told.add(s.group())) {
          lines.add(
              "the group at "
                  + groupPosition(s)
                  + " ("
                  + tasks(sizes.get(s.group()))
                  + ") is counted per state; --all lists every task");
        }
      }
    }
    return lines;
  }

  private static List<String> row(Step s, String mark) {
    return List.of(
        text(s.position()),
        text(s.task()),
        role(s.role()),
        StateColors.colored(s.state()),
        text(s.taskId()),
        mark);
  }

  /** One line per state of a collapsed group, then the task holding it up if it is in it. */
  private static List<List<String>> groupRows(WorkflowState w, String group, Step blocked) {
    Map<TaskState, Integer> counts = new EnumMap<>(TaskState.class);
    Map<TaskState, Set<String>> names = new EnumMap<>(TaskState.class);
    Step first = null;
    for (Step s : w.steps()) {
      if (group.equals(s.group())) {
        first = first == null ? s : first;
        counts.merge(s.state(), 1, Integer::sum);
        names.computeIfAbsent(s.state(), k -> new LinkedHashSet<>()).add(s.task());
      }
    }
    String position = groupPosition(first);
    String role = role(first.role());
    List<List<String>> rows = new ArrayList<>();
    counts.forEach(
        (state, n) ->
            rows.add(
                List.of(
                    position,
                    names(names.get(state)),
                    role,
                    StateColors.colored(state),
                    tasks(n),
                    "")));
    if (blocked != null && group.equals(blocked.group())) {
      rows.add(row(blocked, mark(w)));
    }
    return rows;
  }

  /** The groups with more tasks than {@link #MAX_GROUP_TASKS_LISTED}. */
  private static Set<String> collapsedGroups(WorkflowState w) {
    Set<String> out = new HashSet<>();
    groupSizes(w)
        .forEach(
            (group, n) -> {
              if (n > MAX_GROUP_TASKS_LISTED) {
                out.add(group);
              }
            });
    return out;
  }

  private static Map<String, Integer> groupSizes(WorkflowState w) {
    Map<String, Integer> sizes = new HashMap<>();
    for (Step s : w.steps()) {
      if (s.group() != null) {
        sizes.merge(s.group(), 1, Integer::sum);
      }
    }
    return sizes;
  }

  private static Step blocking(WorkflowState w) {
    if (w.blockedBy() == null) {
      return null;
    }
    for (Step s : w.steps()) {
      if (s.taskId().equals(w.blockedBy())) {
        return s;
      }
    }
    return null;
  }

  private static String mark(WorkflowState w) {
    return w.stopped() ? "@|bold,red <- stopped here|@" : "@|bold,yellow <- holding it up|@";
  }

  /** {@code 3.*} for the members of the group at step 3 ({@code 3.1}, {@code 3.2.1}, ...). */
  private static String groupPosition(Step member) {
    String p = text(member.position());
    int dot = p.indexOf('.');
    return (dot < 0 ? p : p.substring(0, dot)) + ".*";
  }

  /** The task names of a line of a collapsed group: up to three, then how many more. */
  private static String names(Set<String> names) {
    List<String> shown = new ArrayList<>();
    for (String n : names) {
      if (shown.size() == 3) {
        return String.join(", ", shown) + " and " + (names.size() - 3) + " more";
      }
      shown.add(text(n));
    }
    return String.join(", ", shown);
  }

  private static String role(WorkflowState.Role role) {
    return role.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static String tasks(int n) {
    return number(n) + (n == 1 ? " task" : " tasks");
  }

  private static String number(int n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /**
   * A value from the backend as plain text for the terminal: task names are anyone's, and neither a
   * control character nor picocli's markup in one may change what the table shows.
   */
  static String text(String s) {
    if (s == null) {
      return "-";
    }
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.toString().replace("@|", "@ |").replace("|@", "| @");
  }
}
