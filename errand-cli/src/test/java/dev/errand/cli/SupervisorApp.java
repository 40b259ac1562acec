package dev.errand.cli;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The app of the supervisor tests: a task whose first attempt is stuck past its hard time limit
 * (deaf to interrupts, as a JVM thread can be), a task that leaks memory, a slow one and a quick
 * one. Each run appends {@code start|done ID ATTEMPT PID [previous pid alive?]} to the file named
 * by {@code log}.
 */
public final class SupervisorApp implements ErrandApp {

  /** A task run: a label and the file runs are logged to. */
  public record Run(String label, String log) {}

  /** Attempt 1 spins past its 1 s hard limit; attempt 2 (after 200 ms) ends at once. */
  public static final TaskDef<Run, String> STUCK =
      TaskDef.builder("it.stuck", Run.class, String.class)
          .options(
              TaskOptions.builder()
                  .hardTimeLimit(Duration.ofSeconds(1))
                  .retry(
                      RetryPolicy.builder()
                          .maxRetries(1)
                          .backoff(Duration.ofMillis(200))
                          .jitter(false)
                          .build())
                  .build())
          .build();

  /** Keeps 40 MiB more each run, never freed. */
  public static final TaskDef<Run, String> LEAK = TaskDef.of("it.leak", Run.class, String.class);

  /** Sleeps ten minutes (no time limit), holding up a graceful stop; returns its process id. */
  public static final TaskDef<Run, String> SLOW = TaskDef.of("it.slow", Run.class, String.class);

  /** Returns its process id. */
  public static final TaskDef<Run, String> QUICK = TaskDef.of("it.quick", Run.class, String.class);

  private static final List<byte[]> LEAKED = new ArrayList<>();

  @Override
  public void register(TaskRegistry tasks) {
    tasks
        .handle(
            STUCK,
            (run, ctx) -> {
              String previousAlive = "";
              if (ctx.attempt() > 1) {
                long previous = pidOfAttempt(run.log(), ctx.id(), ctx.attempt() - 1);
                previousAlive =
                    " previous-alive="
                        + ProcessHandle.of(previous).map(ProcessHandle::isAlive).orElse(false);
              }
              log(run, "start " + ctx.id() + " " + ctx.attempt() + " " + pid() + previousAlive);
              if (ctx.attempt() == 1) {
                while (true) {
                  Thread.onSpinWait(); // deaf to interrupts: only the end of the process stops it
                }
              }
              log(run, "done " + ctx.id() + " " + ctx.attempt() + " " + pid());
              return "attempt " + ctx.attempt() + " in " + pid();
            })
        .handle(
            LEAK,
            (run, ctx) -> {
              byte[] block = new byte[40 << 20];
              java.util.Arrays.fill(block, (byte) 1); // touched, so it is resident
              synchronized (LEAKED) {
                LEAKED.add(block);
              }
              log(run, "done " + ctx.id() + " 1 " + pid());
              return String.valueOf(pid());
            })
        .handle(
            SLOW,
            (run, ctx) -> {
              log(run, "start " + ctx.id() + " 1 " + pid());
              Thread.sleep(600_000);
              return String.valueOf(pid());
            })
        .handle(
            QUICK,
            (run, ctx) -> {
              log(run, "done " + ctx.id() + " 1 " + pid());
              return String.valueOf(pid());
            });
  }

  private static long pid() {
    return ProcessHandle.current().pid();
  }

  private static synchronized void log(Run run, String line) throws IOException {
    Files.writeString(
        Path.of(run.log()),
        line + "\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private static long pidOfAttempt(String log, String id, int attempt) throws IOException {
    for (String line : Files.readAllLines(Path.of(log))) {
      String[] f = line.split(" ");
      if (f[0].equals("start") && f[1].equals(id) && f[2].equals(String.valueOf(attempt))) {
        return Long.parseLong(f[3]);
      }
    }
    throw new IllegalStateException("no attempt " + attempt + " of " + id + " in " + log);
  }
}
