package dev.errand.cli;

import dev.errand.TaskDef;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;

/** An app for the CLI tests. */
public final class SampleApp implements ErrandApp {

  /** Arguments of {@link #ADD}. */
  public record Add(int x, int y) {}

  public static final TaskDef<Add, Integer> ADD = TaskDef.of("math.add", Add.class, Integer.class);
  public static final TaskDef<Add, Integer> FAIL =
      TaskDef.of("math.fail", Add.class, Integer.class);

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(ADD, (a, ctx) -> a.x() + a.y());
    tasks.handle(
        FAIL,
        (a, ctx) -> {
          throw new ArithmeticException("cannot add " + a.x() + " and " + a.y());
        });
  }
}
