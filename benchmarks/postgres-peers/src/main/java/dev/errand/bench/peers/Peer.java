package dev.errand.bench.peers;

import java.util.List;
import java.util.Map;

/**
 * One product under test, as the {@link Harness} drives it: the harness owns the workloads and the
 * clocks, a peer only says how its product enqueues, runs and counts jobs.
 */
interface Peer extends AutoCloseable {

  /** For example "db-scheduler". */
  String name();

  String version();

  /** The configuration given to the product, for the report (ordered). */
  Map<String, String> configuration();

  /** Creates the product's tables and clients. */
  void setUp() throws Exception;

  /** One enqueue call of one no-op job, due now, committed on its own. */
  void enqueueOne(String payload) throws Exception;

  /** {@code n} no-op jobs, due now, with the product's batch API (one call). */
  void enqueueBatch(int n, String payload) throws Exception;

  /** How the batched step enqueues, for the report. */
  String batchApi();

  /** Starts a scheduler / server that runs the jobs with the configured threads. */
  AutoCloseable startWorker() throws Exception;

  /** Jobs stored and not finished (0 when a drain is complete). */
  long unfinished() throws Exception;

  /** Deletes every job of the product's tables (between steps, not timed). */
  void purge() throws Exception;

  /** The latency variants the product has: each is timed on its own. */
  List<LatencyMode> latencyModes();

  /** Drops what {@link #setUp()} created. */
  @Override
  void close();

  /** One way to send latency probes to an idle, running scheduler / server. */
  interface LatencyMode {
    /** A short key, for example "poll". */
    String key();

    /** What it is, for the report. */
    String description();

    AutoCloseable startWorker() throws Exception;

    /** Enqueues one probe job, due now; {@code seq} < 0 for an unrecorded warm-up probe. */
    void send(int seq, String payload) throws Exception;
  }
}
