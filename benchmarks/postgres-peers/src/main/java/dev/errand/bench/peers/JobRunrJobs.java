package dev.errand.bench.peers;

/**
 * The jobs JobRunr runs: JobRunr stores a call to a public method (found from the enqueue lambda's
 * byte code) with its arguments as JSON, and calls it on a worker thread.
 */
public final class JobRunrJobs {

  private JobRunrJobs() {}

  /** The no-op job; {@code payload} only rides along, as errand bench's payload does. */
  public static void noop(String payload) {
    Recorder.noop();
  }

  /** A latency probe: {@code seq} < 0 is a warm-up one. */
  public static void probe(int seq, String payload) {
    Recorder.probe(seq);
  }
}
