package dev.errand.bench.peers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What one product measured. */
final class Figures {
  String product;
  String version;
  Map<String, String> configuration = new LinkedHashMap<>();
  String batchApi;

  int singles;
  double enqueueSingle = Double.NaN;
  int batched;
  double enqueueBatched = Double.NaN;

  int drained;
  /** First job run to last: jobs/s. */
  double drain = Double.NaN;
  /** Start of the scheduler / server to the last job run: jobs/s. */
  double drainWithStartup = Double.NaN;
  double drainStartupLagMs = Double.NaN;
  double drainSpanMs = Double.NaN;
  /** Job runs counted beyond one per job (0 for exactly once). */
  int drainExtraRuns;

  final List<Latency> latency = new ArrayList<>();

  double seconds;
  /** What else ran on the machine and the server meanwhile (see {@link Noise}). */
  String noise = "not watched";
  boolean quiet;
  java.util.Map<String, Object> noiseJson = new LinkedHashMap<>();
  final List<String> notes = new ArrayList<>();

  /** One latency step: percentiles in ms, from the enqueue call's return and from its start. */
  record Latency(
      String mode,
      String description,
      int samples,
      int recorded,
      Stats.Percentiles fromReturn,
      Stats.Percentiles fromCall,
      int startedBeforeReturn,
      int duplicates) {}
}
