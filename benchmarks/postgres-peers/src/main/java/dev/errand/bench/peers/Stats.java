package dev.errand.bench.peers;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** Pacing and percentiles, computed as errand bench computes them. */
final class Stats {

  private Stats() {}

  /** p50, p95, p99 and the slowest, in ms. */
  record Percentiles(double p50, double p95, double p99, double max) {}

  /** Percentiles of the samples (nanoseconds; negative = not recorded). */
  static Percentiles percentiles(long[] samples) {
    long[] sorted = Arrays.stream(samples).filter(s -> s >= 0).sorted().toArray();
    return new Percentiles(
        percentile(sorted, 0.50),
        percentile(sorted, 0.95),
        percentile(sorted, 0.99),
        sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6);
  }

  /** The nearest-rank percentile, as errand bench's LatencyBench. */
  static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }

  /** A checked step of a paced loop. */
  interface Send {
    void send(int i) throws Exception;
  }

  /**
   * Calls {@code send} {@code n} times, one every 1/rate s, on schedule (a late call does not shift
   * the rest), as errand bench paces its probes.
   */
  static void pace(int n, int rate, Send send) throws Exception {
    long interval = 1_000_000_000L / rate;
    long next = System.nanoTime();
    for (int i = 0; i < n; i++) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      send.send(i);
      next += interval;
    }
  }

  static double perSecond(long n, long nanos) {
    return nanos <= 0 ? Double.NaN : n * 1e9 / nanos;
  }
}
