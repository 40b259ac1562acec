package dev.errand.cli.internal.bench;

/** The figures of one benchmark run (public fields: it is printed as JSON as is). */
public final class BenchResult {
  /** Tasks enqueued per second, one call per task. */
  public double enqueueSingle;

  /** Tasks enqueued per second, one call per task, from {@link Bench#PRODUCERS} threads at once. */
  public double enqueueConcurrent;

  /** Tasks enqueued per second, in batches of 500. */
  public double enqueueBatched;

  /** No-op tasks drained per second from a full queue. */
  public double drainNoop;

  /** CPU time of this process (harness and worker) per drained no-op task, microseconds. */
  public double drainCpuMicros;

  /** How many tasks sleeping 10 ms were drained. */
  public int ioTasks;

  /** Tasks sleeping 10 ms drained per second. */
  public double drainSleep;

  /** How many latency samples were taken. */
  public int latencyTasks;

  /** Enqueue to start, median, ms. */
  public double latencyP50Ms;

  /** Enqueue to start, 95th percentile, ms. */
  public double latencyP95Ms;

  /** Enqueue to start, 99th percentile, ms. */
  public double latencyP99Ms;

  /** Resident memory of the process (harness and worker) after the run, MiB. */
  public double rssMb;
}
