import dev.errand.TaskDef;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;

/**
 * The Errand side of benchmarks/vs-celery-interop.sh: the no-op task {@code bench.add(x, y)} under
 * its Celery name, as benchmarks/celery/interop_drain.py defines it for Celery. Not part of any
 * module: the script compiles it against errand.jar into a directory of its own and puts that on
 * the worker's class path ({@code errand worker --broker celery+redis://... --app InteropBenchApp}).
 */
public final class InteropBenchApp implements ErrandApp {

  /** Celery's positional {@code args=[x, y]}. */
  public record Pair(long x, long y) {}

  static final TaskDef<Pair, Long> ADD =
      TaskDef.builder("bench.add", Pair.class, Long.class).build();

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(ADD, (p, ctx) -> p.x() + p.y());
  }
}
