package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.errand.Client;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleEntry;
import dev.errand.scheduler.ScheduleState;
import dev.errand.scheduler.Schedules;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code errand schedule list | add | edit | pause | resume | delete | run-now}. */
@Command(
    name = "schedule",
    mixinStandardHelpOptions = true,
    description =
        "Schedules of the scheduler (errand beat): list, add, edit, pause, resume, delete, run now."
            + " A running beat picks up every change at once.",
    subcommands = {
      ScheduleCommand.ListSchedules.class,
      ScheduleCommand.Add.class,
      ScheduleCommand.Edit.class,
      ScheduleCommand.Pause.class,
      ScheduleCommand.Resume.class,
      ScheduleCommand.Delete.class,
      ScheduleCommand.RunNow.class
    })
final class ScheduleCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "say what to do: list, add NAME, edit NAME, pause NAME, resume NAME, delete NAME or"
            + " run-now NAME");
  }

  /**
   * Opens the backend and runs {@code action} on its schedules: a schedule that does not exist
   * exits {@link ErrandCommand#NOT_FOUND}, one that conflicts (already exists) is bad usage.
   */
  static <T> T withSchedules(BackendOptions backend, Function<Schedules, T> action) {
    try (Backend b = backend.open()) {
      return action.apply(Schedules.create(Client.create(b)));
    } catch (NoSuchElementException e) {
      throw new NotFoundException(e.getMessage());
    } catch (IllegalStateException e) {
      throw new UsageException(e.getMessage());
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Every schedule.")
  static final class ListSchedules implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      List<ScheduleEntry> all = withSchedules(backend, Schedules::list);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        ArrayNode a = Wire.mapper().createArrayNode();
        all.forEach(e -> a.add(e.toJson()));
        OutputOptions.printJson(out, a);
        return 0;
      }
      if (all.isEmpty()) {
        out.println("no schedules");
        out.flush();
        return 0;
      }
      Instant now = Instant.now();
      List<List<String>> rows = new ArrayList<>();
      for (ScheduleEntry e : all) {
        Schedule s = e.schedule();
        ScheduleState st = e.state();
        rows.add(
            List.of(
                e.name(),
                s.task(),
                s.trigger().describe(),
                s.zone().getId(),
                status(e),
                st.nextFire() == null
                    ? "-"
                    : time(st.nextFire()) + " (in " + until(now, st.nextFire()) + ")",
                st.lastTick() == null ? "-" : time(st.lastTick()),
                String.valueOf(st.totalRuns())));
      }
      OutputOptions.printTable(
          InspectCommand.ansi(spec),
          out,
          List.of("NAME", "TASK", "WHEN", "ZONE", "STATUS", "NEXT", "LAST", "RUNS"),
          rows);
      return 0;
    }

    private static String status(ScheduleEntry e) {
      if (!e.schedule().enabled()) {
        return "@|yellow paused|@";
      }
      return e.finished() ? "@|faint finished|@" : "@|green active|@";
    }

    private static String time(Instant t) {
      return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static String until(Instant now, Instant t) {
      return OutputOptions.age(now, t.isBefore(now) ? now : t.plusMillis(999));
    }
  }

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = "Add a schedule: --task and one of --cron, --every, --at.")
  static final class Add implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin ScheduleDefinition definition;

    @Parameters(index = "0", paramLabel = "NAME", description = "A unique name.")
    String name;

    @CommandLine.Option(names = "--paused", description = "Store it paused.")
    boolean paused;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (definition.task == null || !definition.hasTrigger()) {
        throw new UsageException("add needs --task and one of --cron, --every or --at");
      }
      Schedule s = definition.applyTo(Schedule.builder(name), null).enabled(!paused).build();
      ScheduleEntry e = withSchedules(backend, schedules -> schedules.add(s));
      print(spec, "added", e);
      return 0;
    }
  }

  @Command(
      name = "edit",
      mixinStandardHelpOptions = true,
      description = "Change a schedule: only the flags given change ('none' clears one).")
  static final class Edit implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin ScheduleDefinition definition;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ScheduleEntry e =
          withSchedules(
              backend,
              schedules -> {
                ScheduleEntry current =
                    schedules
                        .get(name)
                        .orElseThrow(
                            () -> new NoSuchElementException("no schedule named '" + name + "'"));
                return schedules.edit(name, b -> definition.applyTo(b, current.schedule().zone()));
              });
      print(spec, "edited", e);
      return 0;
    }
  }

  /** A command on one schedule: the backend, the name, one line printed. */
  abstract static class OnOne implements Callable<Integer> {
    @Mixin BackendOptions backend;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** Does the work and says what was done. */
    abstract String act(Schedules schedules);

    @Override
    public Integer call() {
      String line = withSchedules(backend, this::act);
      spec.commandLine().getOut().println(line);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a schedule.")
  static final class Pause extends OnOne {
    @Override
    String act(Schedules schedules) {
      return describe("paused", schedules.pause(name));
    }
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = "Resume a paused schedule from its next tick.")
  static final class Resume extends OnOne {
    @Override
    String act(Schedules schedules) {
      return describe("resumed", schedules.resume(name));
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a schedule.")
  static final class Delete extends OnOne {
    @Override
    String act(Schedules schedules) {
      if (!schedules.delete(name)) {
        throw new NoSuchElementException("no schedule named '" + name + "'");
      }
      return "deleted " + name;
    }
  }

  @Command(
      name = "run-now",
      mixinStandardHelpOptions = true,
      description = "Send a schedule's task now; its ticks and run count do not change.")
  static final class RunNow extends OnOne {
    @Override
    String act(Schedules schedules) {
      return "sent " + schedules.runNow(name).id();
    }
  }

  private static void print(CommandLine.Model.CommandSpec spec, String verb, ScheduleEntry e) {
    PrintWriter out = spec.commandLine().getOut();
    out.println(describe(verb, e));
    out.flush();
  }

  private static String describe(String verb, ScheduleEntry e) {
    Instant next = e.state().nextFire();
    return verb
        + " "
        + e.name()
        + ": "
        + e.schedule().task()
        + " "
        + e.schedule().trigger().describe()
        + " ("
        + e.schedule().zone().getId()
        + "), next "
        + (next == null ? (e.schedule().enabled() ? "none (finished)" : "none (paused)") : next);
  }
}
