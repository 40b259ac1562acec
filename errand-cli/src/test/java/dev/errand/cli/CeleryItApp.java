package dev.errand.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.Map;

/**
 * The Java side of the Celery interoperability tests: tasks registered under Celery names, run by
 * {@code errand worker --broker celery+redis://...}. Each run of {@code interop.add} and {@code
 * interop.slow} is logged to the file named by {@code ERRAND_CELERY_LOG}, as the Python app does.
 */
public final class CeleryItApp implements ErrandApp {

  /** Positional or keyword: {@code add(2, 3)} and {@code add(x=2, y=3)}. */
  public record Pair(long x, long y) {}

  public record Slow(int n, int ms) {}

  public record Flaky(int succeedOn) {}

  public static final TaskDef<Pair, Long> ADD =
      TaskDef.builder("interop.add", Pair.class, Long.class).build();

  /** A name that is not dotted lower case, as Python class-based tasks are often named. */
  public static final TaskDef<Pair, Long> MUL =
      TaskDef.builder("interop.JavaMul", Pair.class, Long.class).build();

  public static final TaskDef<String, Void> FAIL =
      TaskDef.builder("interop.java_fail", String.class, Void.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).build())
          .build();

  public static final TaskDef<Integer, Integer> PROGRESS =
      TaskDef.builder("interop.java_progress", Integer.class, Integer.class).build();

  public static final TaskDef<Integer, Integer> FLAKY =
      TaskDef.builder("interop.java_flaky", Integer.class, Integer.class)
          .options(TaskOptions.builder().retry(RetryPolicy.builder().maxRetries(5).build()).build())
          .build();

  public static final TaskDef<Slow, Integer> SLOW =
      TaskDef.builder("interop.slow", Slow.class, Integer.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).build())
          .build();

  public static final TaskDef<JsonNode, JsonNode> ECHO =
      TaskDef.builder("interop.java_echo", JsonNode.class, JsonNode.class).build();

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(
        ADD,
        (p, ctx) -> {
          log("add " + p.x() + " " + p.y() + " java");
          return p.x() + p.y();
        });
    tasks.handle(MUL, (p, ctx) -> p.x() * p.y());
    tasks.handleVoid(
        FAIL,
        (message, ctx) -> {
          throw new IllegalArgumentException(message);
        });
    tasks.handle(
        PROGRESS,
        (steps, ctx) -> {
          for (int i = 0; i < steps; i++) {
            ctx.progress(Map.of("current", i, "total", steps));
            Thread.sleep(50);
          }
          return steps;
        });
    tasks.handle(
        FLAKY,
        (succeedOn, ctx) -> {
          if (ctx.attempt() < succeedOn) {
            throw ctx.retry(
                new IllegalStateException("attempt " + ctx.attempt()), Duration.ofSeconds(1));
          }
          return ctx.attempt();
        });
    tasks.handle(
        SLOW,
        (s, ctx) -> {
          log("start " + s.n() + " java");
          Thread.sleep(s.ms());
          log("done " + s.n() + " java");
          return s.n();
        });
    tasks.handle(ECHO, (args, ctx) -> args);
  }

  private static void log(String line) throws IOException {
    String file = System.getenv("ERRAND_CELERY_LOG");
    if (file != null) {
      Files.writeString(
          Path.of(file),
          line + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
  }
}
