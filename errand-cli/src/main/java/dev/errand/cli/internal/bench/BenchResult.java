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

  /** How many latency samples were taken with the worker in this JVM (0: step not run). */
  public int latencyTasks;

  /** Enqueue to start, worker in this JVM, median, ms. */
  public double latencyP50Ms = Double.NaN;

  /** Enqueue to start, worker in this JVM, 95th percentile, ms. */
  public double latencyP95Ms = Double.NaN;

  /** Enqueue to start, worker in this JVM, 99th percentile, ms. */
  public double latencyP99Ms = Double.NaN;

  /** Enqueue to start, worker in this JVM, the slowest sample, ms. */
  public double latencyMaxMs = Double.NaN;

  /**
   * How many samples were taken from commit to start, each probe enqueued in a transaction of its
   * own (PostgreSQL only; 0: not run).
   */
  public int txLatencyTasks;

  /** Commit to start, enqueue in a transaction, worker in this JVM, median, ms. */
  public double txLatencyP50Ms = Double.NaN;

  /** Commit to start, 95th percentile, ms. */
  public double txLatencyP95Ms = Double.NaN;

  /** Commit to start, 99th percentile, ms. */
  public double txLatencyP99Ms = Double.NaN;

  /** Commit to start, the slowest sample, ms. */
  public double txLatencyMaxMs = Double.NaN;

  /** How many latency samples were taken with the worker in a process of its own (0: not run). */
  public int processLatencyTasks;

  /** Enqueue to start, worker in a process of its own, median, ms. */
  public double processLatencyP50Ms = Double.NaN;

  /** Enqueue to start, worker in a process of its own, 95th percentile, ms. */
  public double processLatencyP95Ms = Double.NaN;

  /** Enqueue to start, worker in a process of its own, 99th percentile, ms. */
  public double processLatencyP99Ms = Double.NaN;

  /** Enqueue to start, worker in a process of its own, the slowest sample, ms. */
  public double processLatencyMaxMs = Double.NaN;

  /**
   * Resident memory of the latency step's worker process after its run (the supervisor not
   * counted), MiB; NaN if that step did not run.
   */
  public double processWorkerRssMb = Double.NaN;

  /** Resident memory of the process (harness and worker) after the run, MiB. */
  public double rssMb;
}
