package dev.errand.cli.internal.bench;

import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The app the {@code errand chaos} workers run: a task that logs {@code start ID PID} to a file,
 * sleeps, and logs {@code done ID PID}, so the harness can count executions across processes. Lines
 * are short and appended, so concurrent processes never interleave them.
 */
public final class ChaosApp implements ErrandApp {

  /** Task {@code n}: sleep {@code ms}, logging to {@code log}. */
  public record Work(int n, int ms, String log) {}

  /** The task; it retries transient errors as every task does, and never fails by itself. */
  public static final TaskDef<Work, Integer> WORK =
      TaskDef.builder("chaos.work", Work.class, Integer.class)
          .options(TaskOptions.builder().retry(RetryPolicy.defaults()).build())
          .build();

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(
        WORK,
        (w, ctx) -> {
          log(w.log(), "start " + ctx.id() + " " + ProcessHandle.current().pid());
          Thread.sleep(w.ms());
          log(w.log(), "done " + ctx.id() + " " + ProcessHandle.current().pid());
          return w.n();
        });
  }

  private static void log(String file, String line) throws IOException {
    Files.writeString(
        Path.of(file),
        line + "\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }
}
