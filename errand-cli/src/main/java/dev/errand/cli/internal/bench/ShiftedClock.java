package dev.errand.cli.internal.bench;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The system clock (UTC), moved forward on request: the backend of {@code errand bench-search} runs
 * on it, so the bench can see its statuses expire without waiting for their time to live.
 * Thread-safe.
 */
public final class ShiftedClock extends Clock {

  private final AtomicLong shiftMillis = new AtomicLong();

  /** Moves this clock {@code by} ahead of the system clock, in addition to earlier moves. */
  public void advance(Duration by) {
    shiftMillis.addAndGet(by.toMillis());
  }

  @Override
  public long millis() {
    return System.currentTimeMillis() + shiftMillis.get();
  }

  @Override
  public Instant instant() {
    return Instant.now().plusMillis(shiftMillis.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    if (zone.normalized().equals(ZoneOffset.UTC)) {
      return this;
    }
    throw new UnsupportedOperationException("a ShiftedClock is always UTC, not " + zone);
  }
}
