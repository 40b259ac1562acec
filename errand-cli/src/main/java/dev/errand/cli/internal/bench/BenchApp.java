package dev.errand.cli.internal.bench;

import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;

/**
 * The tasks of {@code errand bench}, for a real {@code errand worker} process: {@code bench.noop}
 * does nothing and {@code bench.sleep10ms} sleeps 10 ms. With {@code errand bench --enqueue-only}
 * they measure a worker as it runs in production, in a process of its own: its start, its memory
 * idle and after draining a queue.
 */
public final class BenchApp implements ErrandApp {

  @Override
  public void register(TaskRegistry tasks) {
    tasks
        .handleVoid(Bench.NOOP, (job, ctx) -> {})
        .handleVoid(Bench.SLEEP, (job, ctx) -> Thread.sleep(10));
  }
}
