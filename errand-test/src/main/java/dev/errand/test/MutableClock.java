package dev.errand.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that stands still until a test moves it. Give it to a backend, client and worker so the
 * test decides when leases expire, delays are due and results time out.
 *
 * <pre>{@code
 * MutableClock clock = new MutableClock();           // 2026-01-01T00:00:00Z
 * Backend backend = new InMemoryBackend(clock);
 * ...
 * clock.advance(Duration.ofSeconds(31));             // the 30 s lease has expired
 * }</pre>
 *
 * <p>Thread-safe: a test thread may move it while workers read it. Clocks derived with {@link
 * #withZone} share its time.
 */
public final class MutableClock extends Clock {

  /** Where a clock made with {@link #MutableClock()} starts: {@code 2026-01-01T00:00:00Z}. */
  public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  /** A clock at {@link #DEFAULT_START}, in UTC. */
  public MutableClock() {
    this(DEFAULT_START);
  }

  /** A clock at {@code start}, in UTC. */
  public MutableClock(Instant start) {
    this(new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
  }

  private MutableClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  /** A clock at {@code start}, in UTC. */
  public static MutableClock startingAt(Instant start) {
    return new MutableClock(start);
  }

  /**
   * Moves the clock forward by {@code duration} and returns the new time.
   *
   * @throws IllegalArgumentException if {@code duration} is negative (use {@link #set} to go back)
   */
  public Instant advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException(
          "duration must be >= 0 but was " + duration + " (use set(Instant) to go back)");
    }
    return now.updateAndGet(t -> t.plus(duration));
  }

  /** Sets the clock to {@code instant}, which may be earlier than now. */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public long millis() {
    return now.get().toEpochMilli();
  }

  /** UTC unless this clock was derived with {@link #withZone}. */
  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A clock in {@code zone} that shares this clock's time: moving either moves both. */
  @Override
  public MutableClock withZone(ZoneId zone) {
    Objects.requireNonNull(zone, "zone");
    return zone.equals(this.zone) ? this : new MutableClock(now, zone);
  }

  @Override
  public String toString() {
    return "MutableClock[" + now.get() + ", " + zone + "]";
  }
}
