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
import java.util.List;

/**
 * The app run by the worker processes of {@link WorkflowProcessIT}: chain steps that check the
 * value the previous step passed on, chord members, and a chord callback that checks every member's
 * result and records each of its runs. Every run is appended to a log file named in the task's
 * argument, one line per run in a single {@code O_APPEND} write, so runs in processes killed later
 * are still counted. No task retries: a step that finds a wrong value fails its chain for good.
 */
public final class WorkflowItApp implements ErrandApp {

  /** The queue of {@link #GATHER}, so a test can run it on a worker it never kills. */
  public static final String CALLBACKS = "wf-callbacks";

  private static final TaskOptions NO_RETRY =
      TaskOptions.builder().retry(RetryPolicy.none()).build();

  /**
   * A chain step's argument, and its result: step {@code step} of chain {@code chain} carries
   * {@link #value(int, int)}; {@code ms} is how long each step works.
   */
  public record Step(int chain, int step, long value, int ms, String log) {}

  /**
   * Checks the value passed on, logs {@code step CHAIN STEP PID}, works {@code ms}, returns the
   * next step's value.
   */
  public static final TaskDef<Step, Step> STEP =
      TaskDef.builder("wf.step", Step.class, Step.class).options(NO_RETRY).build();

  /**
   * A chord member: logs {@code member INDEX PID}, returns {@link #memberValue(int)} after {@code
   * ms}.
   */
  public record Member(int index, int ms, String log) {}

  public static final TaskDef<Member, Long> MEMBER =
      TaskDef.builder("wf.member", Member.class, Long.class).options(NO_RETRY).build();

  /**
   * A slow chord member: logs {@code slow INDEX ID PID}, works {@code ms}, reports progress, works
   * 500 ms more, returns {@link #memberValue(int)}.
   */
  public record Slow(int index, int ms, String log) {}

  public static final TaskDef<Slow, Long> SLOW =
      TaskDef.builder("wf.slow", Slow.class, Long.class).options(NO_RETRY).build();

  /** A chord member that returns {@link #memberValue(int)} once the file {@code gate} exists. */
  public record Gate(int index, String gate) {}

  public static final TaskDef<Gate, Long> GATE =
      TaskDef.builder("wf.gate", Gate.class, Long.class).options(NO_RETRY).build();

  /** A chord callback's argument: the chord's size, and the members' results (bound by name). */
  public record Gather(int size, String log, List<Long> results) {}

  /**
   * Logs {@code gather ID pid=PID size=N mismatch=I} (I the first index whose result is not {@link
   * #memberValue(int)}, -1 if none) and returns {@link #checksum(List)} of the results.
   */
  public static final TaskDef<Gather, Long> GATHER =
      TaskDef.builder("wf.gather", Gather.class, Long.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).queue(CALLBACKS).build())
          .build();

  /** The value step {@code step} of chain {@code chain} is given. */
  public static long value(int chain, int step) {
    return chain * 1_000L + step * 7L + 1;
  }

  /** What member {@code index} returns. */
  public static long memberValue(int index) {
    return index * 31L + 7;
  }

  /** A sum that depends on the order of {@code results}. */
  public static long checksum(List<Long> results) {
    long sum = 0;
    for (int i = 0; i < results.size(); i++) {
      sum = sum * 1_000_003L + results.get(i);
    }
    return sum;
  }

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(
        STEP,
        (s, ctx) -> {
          if (s.value() != value(s.chain(), s.step())) {
            throw new IllegalStateException(
                "chain " + s.chain() + " step " + s.step() + " was passed " + s.value());
          }
          append(s.log(), "step " + s.chain() + " " + s.step() + " " + pid() + "\n");
          Thread.sleep(s.ms());
          int next = s.step() + 1;
          return new Step(s.chain(), next, value(s.chain(), next), s.ms(), s.log());
        });
    tasks.handle(
        MEMBER,
        (m, ctx) -> {
          append(m.log(), "member " + m.index() + " " + pid() + "\n");
          Thread.sleep(m.ms());
          return memberValue(m.index());
        });
    tasks.handle(
        SLOW,
        (m, ctx) -> {
          append(m.log(), "slow " + m.index() + " " + ctx.id() + " " + pid() + "\n");
          Thread.sleep(m.ms());
          ctx.progress(1, 2);
          Thread.sleep(500); // the progress is written on its own, not with the outcome
          return memberValue(m.index());
        });
    tasks.handle(
        GATE,
        (g, ctx) -> {
          while (!Files.exists(Path.of(g.gate()))) {
            Thread.sleep(20);
          }
          return memberValue(g.index());
        });
    tasks.handle(
        GATHER,
        (g, ctx) -> {
          List<Long> results = g.results();
          int mismatch = results.size() == g.size() ? -1 : Math.min(results.size(), g.size());
          for (int i = 0; i < Math.min(results.size(), g.size()); i++) {
            if (results.get(i) == null || results.get(i) != memberValue(i)) {
              mismatch = i;
              break;
            }
          }
          append(
              g.log(),
              "gather "
                  + ctx.id()
                  + " pid="
                  + pid()
                  + " size="
                  + results.size()
                  + " mismatch="
                  + mismatch
                  + "\n");
          return checksum(results);
        });
  }

  private static long pid() {
    return ProcessHandle.current().pid();
  }

  /** One write with O_APPEND: lines of concurrent writers, in any process, never interleave. */
  private static void append(String file, String line) throws IOException {
    Files.writeString(
        Path.of(file),
        line,
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }
}
