package dev.errand.sqlite.internal;

import dev.errand.spi.BackendProvider;
import dev.errand.spi.CorrectedClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's clock as its kernel keeps it: the time by which the SQLite backend decides leases,
 * delays, expiry and leadership. Every process sharing a database file runs on one host, but a
 * process can still see another time than the kernel's: under libfaketime, or in a container or
 * sandbox whose time is virtualized. Such tools change what the process's time calls answer, not
 * what the kernel writes into files, so this clock reads the kernel's time from two places those
 * calls do not touch, and corrects the process clock by its offset to them:
 *
 * <ul>
 *   <li>the boot time in {@code /proc/stat} ({@code btime}, whole seconds) plus {@code
 *       /proc/uptime} (10 ms): the kernel's time, to within a second;
 *   <li>the modification time the kernel gives a file it creates in the temporary directory: its
 *       time to within a clock tick, used when it agrees with the first (a tool that fakes file
 *       times too would make it agree with the process clock instead, and it is then ignored).
 * </ul>
 *
 * <p>The offset is measured at open and again every {@link #REFRESH} while the clock is read; one
 * within {@link #TOLERANCE} is taken as none, so a process whose clock is right runs on the system
 * clock unchanged. An offset beyond {@link #WARN_OFFSET} is logged as a WARN naming both clocks.
 * Where {@code /proc} is missing (not Linux) the process clock is used as it is. Thread-safe.
 */
public final class HostClock extends CorrectedClock {

  private static final Logger log = LoggerFactory.getLogger(HostClock.class);

  /** How often the offset is measured again: every 30 s, while the clock is read. */
  public static final Duration REFRESH = Duration.ofSeconds(30);

  /** An offset smaller than this is measurement noise, taken as none: 50 ms. */
  public static final Duration TOLERANCE = Duration.ofMillis(50);

  private final Path proc;
  private final Path scratch;
  private final long refreshNanos;
  private final AtomicBoolean measuring = new AtomicBoolean();
  private volatile long measuredAtNanos;
  private volatile boolean available = true;

  /**
   * Measures {@code local} against the kernel's time read under {@code proc} and from files made in
   * {@code scratch}, now and every {@code refresh}.
   */
  HostClock(Clock local, Path proc, Path scratch, Duration refresh) {
    super(local, log);
    this.proc = proc;
    this.scratch = scratch;
    this.refreshNanos = refresh.toNanos();
    measure();
  }

  /**
   * The clock a backend opened with {@code given} decides by: the host's clock measured against
   * {@code given} when that is the system clock (see {@link BackendProvider#isSystemClock}), else
   * {@code given} itself (tests).
   */
  public static Clock of(Clock given) {
    return BackendProvider.isSystemClock(given) ? correcting(given) : given;
  }

  /**
   * The host's clock, with {@code local} standing for this process's clock (tests play a process
   * whose clock is wrong with an offset clock).
   */
  public static HostClock correcting(Clock local) {
    return new HostClock(
        local, Path.of("/proc"), Path.of(System.getProperty("java.io.tmpdir")), REFRESH);
  }

  @Override
  protected String source() {
    return "the clock of this host's kernel";
  }

  @Override
  protected String sourceLabel() {
    return "the kernel";
  }

  @Override
  protected String advice() {
    return "the SQLite backend decides leases, delays, expiry and leadership by the host's clock"
        + " and corrects this process's by the offset, but its log times are off: is it run under"
        + " libfaketime or a virtualized clock?";
  }

  @Override
  protected void refreshIfDue() {
    if (available
        && System.nanoTime() - measuredAtNanos >= refreshNanos
        && measuring.compareAndSet(false, true)) {
      try {
        measure();
      } finally {
        measuring.set(false);
      }
    }
  }

  private void measure() {
    Reading kernel = read(this::kernelMillis);
    measuredAtNanos = System.nanoTime();
    if (kernel == null) {
      if (available) {
        available = false;
        log.debug("no /proc/stat and /proc/uptime: the process clock is taken as the host's");
      }
      return;
    }
    // Twice: the first file read of a process also loads classes, which widens its window.
    Reading file = read(this::fileMillis);
    Reading again = read(this::fileMillis);
    if (file == null || again != null && again.slack() < file.slack()) {
      file = again;
    }
    update(
        decide(
            kernel.offset(),
            file == null ? Long.MIN_VALUE : file.offset(),
            kernel.slack() + (file == null ? 0 : file.slack())));
  }

  /** A reading of the host's time minus the process clock at its middle, and half its window. */
  private record Reading(long offset, long slack) {}

  private Reading read(java.util.function.Supplier<OptionalLong> source) {
    long before = local().millis();
    long start = System.nanoTime();
    OptionalLong value = source.get();
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    return value.isEmpty()
        ? null
        : new Reading(value.getAsLong() - (before + took / 2), took / 2 + 1);
  }

  /**
   * The offset to apply, from the two readings: {@code coarse}, the boot-time reading minus the
   * process clock (the true offset lies in {@code [coarse, coarse + 1 s)}, as the boot time is
   * whole seconds), and {@code fine}, the file-time reading minus the process clock ({@code
   * Long.MIN_VALUE} if none); {@code slack} ms of reading time widen the range.
   */
  static long decide(long coarse, long fine, long slack) {
    long low = coarse - slack - 20; // /proc/uptime has 10 ms steps
    long high = coarse + 1000 + slack + 20;
    long offset;
    if (fine != Long.MIN_VALUE && fine >= low && fine <= high) {
      offset = fine;
    } else if (low <= 0 && 0 <= high) {
      offset = 0; // the process clock agrees with the kernel's as far as the boot time can tell
    } else {
      offset = coarse + 500; // the middle of what the boot time allows
    }
    return Math.abs(offset) < TOLERANCE.toMillis() ? 0 : offset;
  }

  /** btime + uptime in ms, if /proc has them. */
  private OptionalLong kernelMillis() {
    try {
      long btime = -1;
      for (String line : Files.readAllLines(proc.resolve("stat"))) {
        if (line.startsWith("btime ")) {
          btime = Long.parseLong(line.substring(6).trim());
          break;
        }
      }
      String uptime = Files.readString(proc.resolve("uptime")).trim();
      int space = uptime.indexOf(' ');
      double seconds = Double.parseDouble(space < 0 ? uptime : uptime.substring(0, space));
      return btime < 0
          ? OptionalLong.empty()
          : OptionalLong.of(btime * 1000 + Math.round(seconds * 1000));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** The modification time the kernel gives a new file, if it can be made and read. */
  private OptionalLong fileMillis() {
    Path f = null;
    try {
      f = Files.createTempFile(scratch, "errand-clock-", ".tmp");
      long t = Files.getLastModifiedTime(f).toMillis();
      // Whole seconds are a file system without finer times: no better than the boot time.
      return t % 1000 == 0 ? OptionalLong.empty() : OptionalLong.of(t);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    } finally {
      if (f != null) {
        try {
          Files.deleteIfExists(f);
        } catch (IOException ignored) {
          // a left-over empty temporary file
        }
      }
    }
  }

  private void update(long offset) {
    offset(offset);
  }
}
