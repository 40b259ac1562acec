package dev.errand.worker.internal;

import dev.errand.WorkerInfo;
import dev.errand.worker.WorkerOptions;
import java.time.Instant;
import java.util.List;

/** Builds heartbeats: the static facts of a worker plus its changing counters. */
final class WorkerInfoSource {

  private final String name;
  private final WorkerOptions options;
  private final java.util.function.IntSupplier concurrencyNow;
  private final String host;
  private final long pid;

  /**
   * @param concurrencyNow the task threads now (they vary when the worker autoscales)
   */
  WorkerInfoSource(
      String name, WorkerOptions options, java.util.function.IntSupplier concurrencyNow) {
    this.name = name;
    this.options = options;
    this.concurrencyNow = concurrencyNow;
    this.host = Hosts.hostName();
    this.pid = ProcessHandle.current().pid();
  }

  WorkerInfo snapshot(
      Instant startedAt,
      Instant now,
      List<WorkerInfo.RunningTask> running,
      long processed,
      long failed,
      String problem) {
    return new WorkerInfo(
        name,
        host,
        pid,
        options.queues(),
        concurrencyNow.getAsInt(),
        options.pool().label(),
        startedAt,
        now,
        running,
        processed,
        failed,
        problem == null,
        problem);
  }
}
