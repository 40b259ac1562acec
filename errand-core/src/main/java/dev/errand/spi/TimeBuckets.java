package dev.errand.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Consecutive spans of time of equal length, for {@link ResultStore#countByTime}: bucket {@code i}
 * holds the update times in {@code [start + i × step, start + (i + 1) × step)}, in milliseconds
 * (the precision of {@link TaskQuery}). Build with {@link #of} or {@link #ending}.
 *
 * @param start the start of the first bucket (inclusive), whole milliseconds
 * @param step the length of each bucket, at least 1 ms, whole milliseconds
 * @param count how many buckets, 1 to {@value #MAX_COUNT}
 */
public record TimeBuckets(Instant start, Duration step, int count) {

  /** The most buckets one count may ask for: {@value}. */
  public static final int MAX_COUNT = 10_000;

  /**
   * Validates.
   *
   * @throws IllegalArgumentException naming the value if the step is under 1 ms or not whole
   *     milliseconds, the start is not whole milliseconds, or the count is out of range
   */
  public TimeBuckets {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(step, "step");
    if (count < 1 || count > MAX_COUNT) {
      throw new IllegalArgumentException(
          "bucket count must be 1-" + MAX_COUNT + " but was " + count);
    }
    if (step.compareTo(Duration.ofMillis(1)) < 0 || step.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          "bucket step must be a whole number of milliseconds, at least 1, but was " + step);
    }
    if (start.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          "bucket start must be a whole millisecond but was " + start);
    }
    try {
      Math.addExact(start.toEpochMilli(), Math.multiplyExact(step.toMillis(), (long) count));
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "buckets from " + start + " by " + step + " × " + count + " overflow", e);
    }
  }

  /** {@code count} buckets of {@code step} from {@code start}. */
  public static TimeBuckets of(Instant start, Duration step, int count) {
    return new TimeBuckets(start, step, count);
  }

  /**
   * The buckets of {@code step} covering the {@code span} before {@code end}: the last one ends at
   * {@code end} (truncated to the millisecond).
   *
   * @throws IllegalArgumentException if {@code span} is not a positive whole number of steps
   */
  public static TimeBuckets ending(Instant end, Duration span, Duration step) {
    Objects.requireNonNull(end, "end");
    Objects.requireNonNull(span, "span");
    Objects.requireNonNull(step, "step");
    if (step.compareTo(Duration.ofMillis(1)) < 0
        || step.getNano() % 1_000_000 != 0
        || span.compareTo(step) < 0
        || span.getNano() % 1_000_000 != 0
        || span.toMillis() % step.toMillis() != 0) {
      throw new IllegalArgumentException(
          "span must be a positive whole number of steps (whole milliseconds) but was "
              + span
              + " by "
              + step);
    }
    long count = span.toMillis() / step.toMillis();
    if (count > MAX_COUNT) {
      throw new IllegalArgumentException(
          "bucket count must be 1-" + MAX_COUNT + " but was " + count);
    }
    Instant last = Instant.ofEpochMilli(end.toEpochMilli());
    return new TimeBuckets(last.minus(span), step, (int) count);
  }

  /** The start of the first bucket in epoch milliseconds. */
  public long startMillis() {
    return start.toEpochMilli();
  }

  /** The length of a bucket in milliseconds. */
  public long stepMillis() {
    return step.toMillis();
  }

  /** The end of the last bucket (exclusive) in epoch milliseconds. */
  public long endMillis() {
    return startMillis() + stepMillis() * count;
  }

  /** The start of bucket {@code i}. */
  public Instant bucketStart(int i) {
    return Instant.ofEpochMilli(startMillis() + stepMillis() * i);
  }

  /** The bucket holding {@code millis}, or -1 if it lies outside every bucket. */
  public int indexOf(long millis) {
    if (millis < startMillis() || millis >= endMillis()) {
      return -1;
    }
    return (int) ((millis - startMillis()) / stepMillis());
  }
}
