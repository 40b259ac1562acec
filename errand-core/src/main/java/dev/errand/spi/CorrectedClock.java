package dev.errand.spi;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Locale;
import org.slf4j.Logger;

/**
 * For backend implementers: the process clock corrected by its measured offset to the backend's own
 * clock (Redis's {@code TIME}, the host kernel's clock...), for {@link Backend#clock()} in server
 * time. A subclass measures the offset its own way and records it with {@link #offset(long)}; it is
 * asked to measure again, when due, by {@link #refreshIfDue()} on every read. An offset beyond
 * {@link #WARN_OFFSET} is logged once as a WARN naming both clocks, and again only when it moves by
 * more than that; an INFO says when the clocks agree again. Thread-safe.
 */
public abstract class CorrectedClock extends Clock {

  /** An offset beyond this is logged as a warning: 1 s. */
  public static final Duration WARN_OFFSET = Duration.ofSeconds(1);

  private final Clock local;
  private final Logger log;
  private volatile long offsetMillis;
  private Long warnedOffset; // guarded by this: the offset last warned about, null if none

  /**
   * @param local the process clock
   * @param log where the warnings go (the subclass's logger)
   */
  protected CorrectedClock(Clock local, Logger log) {
    this.local = local;
    this.log = log;
  }

  /** The process clock this one corrects. */
  protected final Clock local() {
    return local;
  }

  /** Starts a new measurement if one is due; called on every read, so it must be cheap. */
  protected abstract void refreshIfDue();

  /** The clock corrected to, in the log lines: {@code "the clock of Redis at redis://h:6379"}. */
  protected abstract String source();

  /** Its time's label in the warning: {@code "Redis TIME"}. */
  protected abstract String sourceLabel();

  /** What the warning advises, after the clocks: what decides by which clock, what to fix. */
  protected abstract String advice();

  /** How far the backend's clock is ahead of the process clock, in ms (negative: behind). */
  public final long offsetMillis() {
    return offsetMillis;
  }

  /** Records a new measurement, warning when the offset is large. */
  protected final void offset(long offset) {
    offsetMillis = offset;
    synchronized (this) {
      long bound = WARN_OFFSET.toMillis();
      if (Math.abs(offset) > bound) {
        if (warnedOffset == null || Math.abs(offset - warnedOffset) > bound) {
          warnedOffset = offset;
          Instant here = local.instant();
          log.warn(
              "the clock of this process is {} s {} {} (this process: {}, {}: {}); {}",
              String.format(Locale.ROOT, "%.1f", Math.abs(offset) / 1000.0),
              offset < 0 ? "ahead of" : "behind",
              source(),
              here,
              sourceLabel(),
              here.plusMillis(offset),
              advice());
        }
      } else if (warnedOffset != null) {
        warnedOffset = null;
        log.info("the clock of this process agrees with {} again", source());
      }
    }
  }

  @Override
  public final long millis() {
    refreshIfDue();
    return local.millis() + offsetMillis;
  }

  @Override
  public final Instant instant() {
    refreshIfDue();
    return local.instant().plusMillis(offsetMillis);
  }

  @Override
  public final ZoneId getZone() {
    return local.getZone();
  }

  /** This clock seen in another zone: the same corrected instants, measured by this one. */
  @Override
  public final Clock withZone(ZoneId zone) {
    if (zone.equals(getZone())) {
      return this;
    }
    CorrectedClock self = this;
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return zone;
      }

      @Override
      public Clock withZone(ZoneId z) {
        return self.withZone(z);
      }

      @Override
      public long millis() {
        return self.millis();
      }

      @Override
      public Instant instant() {
        return self.instant();
      }
    };
  }
}
