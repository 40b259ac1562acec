package dev.errand.memory;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/** Argument checks and overflow-safe instant arithmetic shared by the in-memory stores. */
final class Durations {

  private Durations() {}

  /** Returns {@code value}, or throws naming it unless it is {@code > 0}. */
  static Duration requirePositive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be > 0 but was " + value);
    }
    return value;
  }

  /** Returns {@code value}, or throws naming it unless it is {@code >= 0}. */
  static Duration requireNonNegative(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must be >= 0 but was " + value);
    }
    return value;
  }

  /** {@code now + d}, saturating at {@link Instant#MAX}: a time to live of centuries is forever. */
  static Instant plus(Instant now, Duration d) {
    try {
      return now.plus(d);
    } catch (DateTimeException | ArithmeticException overflow) {
      return Instant.MAX;
    }
  }

  /** The later of {@code at} and {@code now}; {@code now} when {@code at} is null. */
  static Instant notBefore(Instant at, Instant now) {
    return at == null || at.isBefore(now) ? now : at;
  }

  /** Nanoseconds from {@code from} to {@code to}, saturating instead of overflowing. */
  static long nanosBetween(Instant from, Instant to) {
    try {
      return Duration.between(from, to).toNanos();
    } catch (ArithmeticException overflow) {
      return from.isBefore(to) ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
  }
}
