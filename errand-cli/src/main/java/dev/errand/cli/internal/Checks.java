package dev.errand.cli.internal;

import java.time.Duration;
import java.time.Instant;

/**
 * Checks of option values that say which flag is wrong, what it was and why, in the flag's own
 * units ("--countdown must be positive but was -5s"), before a library message in its terms
 * ("countdown must be >= 0 but was PT-5S") can be reached. All throw {@link UsageException}.
 */
final class Checks {

  private Checks() {}

  /** {@code value} when it is above zero; null passes (an option not given). */
  static Duration positive(String flag, Duration value) {
    if (value != null && (value.isZero() || value.isNegative())) {
      throw new UsageException(
          flag + " must be positive but was " + DurationConverter.format(value));
    }
    return value;
  }

  /** {@code value} when it is zero or more; null passes. */
  static Duration notNegative(String flag, Duration value) {
    if (value != null && value.isNegative()) {
      throw new UsageException(
          flag + " must not be negative but was " + DurationConverter.format(value));
    }
    return value;
  }

  /** {@code value} when it is between {@code min} and {@code max}; {@code why} explains the max. */
  static Duration between(String flag, Duration value, Duration min, Duration max, String why) {
    if (value == null) {
      return null;
    }
    if (value.compareTo(min) < 0) {
      throw new UsageException(
          flag
              + " must be at least "
              + DurationConverter.format(min)
              + " but was "
              + DurationConverter.format(value));
    }
    if (value.compareTo(max) > 0) {
      throw new UsageException(
          flag
              + " must be at most "
              + DurationConverter.format(max)
              + " but was "
              + DurationConverter.format(value)
              + ": "
              + why);
    }
    return value;
  }

  /**
   * {@code time} when it is within {@link DurationConverter#MAX} of now, either way: a time further
   * off is a mistyped year, and its distance from now overflows the arithmetic of a timed wait.
   */
  static Instant nearNow(String flag, String text, Instant time) {
    if (Duration.between(Instant.now(), time).abs().compareTo(DurationConverter.MAX) > 0) {
      throw new UsageException(
          flag + " '" + text + "' is more than 100 years from now; check the year");
    }
    return time;
  }

  /** {@code value} when it is above zero. */
  static int positive(String flag, int value) {
    if (value <= 0) {
      throw new UsageException(flag + " must be positive but was " + value);
    }
    return value;
  }

  /** {@code value} when it is between {@code min} and {@code max}; null passes. */
  static Integer between(String flag, Integer value, int min, int max) {
    if (value != null && (value < min || value > max)) {
      throw new UsageException(flag + " must be " + min + "-" + max + " but was " + value);
    }
    return value;
  }
}
