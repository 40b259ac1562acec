package dev.errand.cli;

import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleSource;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The app run by worker processes in the integration tests: sleeps, and logs each run to a file;
 * defines one schedule, stored by {@code errand worker --beat}.
 */
public final class ItApp implements ErrandApp, ScheduleSource {

  /** The schedule this app defines in code. */
  public static final Schedule NIGHTLY =
      Schedule.builder("it-nightly").task("it.nightly").cron("@daily").queue("nightly").build();

  /** Sleep {@code ms}, then append "id pid" to the file named by {@code log}. */
  public record Work(int n, int ms, String log) {}

  public static final TaskDef<Work, Integer> WORK =
      TaskDef.builder("it.work", Work.class, Integer.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).build())
          .build();

  @Override
  public List<Schedule> schedules() {
    return List.of(NIGHTLY);
  }

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(
        dev.errand.test.FlowControlProof.TIMED,
        (t, ctx) -> dev.errand.test.FlowControlProof.run(t));
    tasks.handle(
        WORK,
        (w, ctx) -> {
          Files.writeString(
              Path.of(w.log()),
              "start " + ctx.id() + " " + ProcessHandle.current().pid() + "\n",
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
          Thread.sleep(w.ms());
          Files.writeString(
              Path.of(w.log()),
              "done " + ctx.id() + " " + ProcessHandle.current().pid() + "\n",
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
          return w.n();
        });
  }
}
