package dev.errand.cli.internal.bench;

import dev.errand.TaskDef;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The app an {@code errand worker} runs for the separate-process latency step of {@code errand
 * bench}: a task that takes the time the moment its handler starts, subtracts the time its producer
 * put in its argument, and appends the difference to a file the producer reads. Both processes run
 * on one host, so both read the same wall clock ({@code CLOCK_REALTIME}).
 */
public final class LatencyApp implements ErrandApp {

  /**
   * One latency probe.
   *
   * @param seq its place in the sending order
   * @param sentMicros when the producer called enqueue, microseconds since the epoch (wall clock)
   * @param payload padding, as the other benchmark tasks carry
   * @param log the file to append {@code seq micros} to, or null for a warm-up probe (not recorded)
   */
  public record Probe(int seq, long sentMicros, String payload, String log) {}

  /** The probe task. */
  public static final TaskDef<Probe, Void> PROBE = TaskDef.of("bench.probe", Probe.class);

  /** Microseconds since the epoch, from the wall clock every process on this host shares. */
  public static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handleVoid(
        PROBE,
        (probe, ctx) -> {
          long micros = nowMicros() - probe.sentMicros();
          if (probe.log() != null) {
            // One short line appended per write: concurrent slots never interleave them.
            Files.writeString(
                Path.of(probe.log()),
                probe.seq() + " " + micros + "\n",
                StandardCharsets.US_ASCII,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
          }
        });
  }

  /** How many complete lines {@code log} holds (a line being appended is not counted). */
  static long lines(Path log) throws IOException {
    if (!Files.exists(log)) {
      return 0;
    }
    long n = 0;
    for (byte b : Files.readAllBytes(log)) {
      if (b == '\n') {
        n++;
      }
    }
    return n;
  }

  /**
   * Reads the latencies appended to {@code log}: element {@code seq} is that probe's latency in
   * nanoseconds, or -1 if it was not recorded.
   */
  static long[] read(Path log, int probes) throws IOException {
    long[] out = new long[probes];
    java.util.Arrays.fill(out, -1);
    for (String line : Files.readAllLines(log, StandardCharsets.US_ASCII)) {
      int space = line.indexOf(' ');
      if (space > 0) {
        int seq = Integer.parseInt(line.substring(0, space));
        if (seq >= 0 && seq < probes) {
          out[seq] = Long.parseLong(line.substring(space + 1)) * 1_000;
        }
      }
    }
    return out;
  }
}
