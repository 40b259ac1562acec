package dev.errand.scheduler;

import dev.errand.scheduler.internal.CronRule;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;
import java.util.Optional;

/**
 * When a schedule fires: a cron expression, a fixed interval, or one instant. Fire times are
 * deterministic (the same on every machine for the same schedule), which is what lets two
 * schedulers agree on a tick and enqueue it once. Immutable and thread-safe.
 */
public sealed interface Trigger permits Trigger.Cron, Trigger.Every, Trigger.At {

  /**
   * The first fire time strictly after {@code after}, or empty when there is none.
   *
   * @param zone the schedule's time zone (cron fields are read as wall-clock time in it)
   * @param anchor where interval ticks are counted from (the schedule's start, or the epoch)
   */
  Optional<Instant> next(Instant after, ZoneId zone, Instant anchor);

  /** The trigger as text: the cron expression, {@code every PT15M} or {@code at <instant>}. */
  String describe();

  /**
   * A cron trigger.
   *
   * @param expression five fields (minute hour day-of-month month day-of-week), or six with a
   *     leading seconds field, or an alias: {@code @yearly} ({@code @annually}), {@code @monthly},
   *     {@code @weekly}, {@code @daily} ({@code @midnight}), {@code @hourly}. Names of months and
   *     days ({@code JAN}, {@code MON-FRI}), ranges, lists and steps are accepted.
   * @throws IllegalArgumentException naming the expression and what is wrong with it
   */
  static Cron cron(String expression) {
    return new Cron(expression);
  }

  /**
   * A fixed interval: ticks at {@code anchor + k × interval}.
   *
   * @throws IllegalArgumentException if the interval is under one second
   */
  static Every every(Duration interval) {
    return new Every(interval);
  }

  /** Fires once, at {@code instant}. */
  static At at(Instant instant) {
    return new At(instant);
  }

  /**
   * Parses the text form written by {@link #describe()}: a cron expression, {@code every <ISO-8601
   * duration>} or {@code at <ISO-8601 instant>}.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static Trigger parse(String text) {
    Objects.requireNonNull(text, "trigger");
    String t = text.strip();
    if (t.startsWith("every ")) {
      String d = t.substring(6).strip();
      try {
        return every(Duration.parse(d));
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException(
            "interval '" + d + "' is not an ISO-8601 duration like PT15M or PT1H", e);
      }
    }
    if (t.startsWith("at ")) {
      String i = t.substring(3).strip();
      try {
        return at(Instant.parse(i));
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException(
            "instant '" + i + "' is not an ISO-8601 instant like 2026-12-24T18:00:00Z", e);
      }
    }
    return cron(t);
  }

  /**
   * A cron trigger; see {@link Trigger#cron}. On a day when clocks spring forward, a fire time that
   * falls in the skipped hour fires once, right after the change, for expressions with a fixed hour
   * (a 02:30 daily job runs at 03:00 that day); expressions whose hour field is a wildcard just
   * continue at the next existing time. On a day when clocks fall back, fixed-hour fire times in
   * the repeated hour fire once (at the first occurrence), while wildcard-hour expressions fire in
   * both hours, as the time that passes would suggest (the rules of Vixie cron).
   */
  record Cron(String expression) implements Trigger {
    public Cron {
      Objects.requireNonNull(expression, "expression");
      CronRule.parse(expression); // fails fast on a bad expression
    }

    @Override
    public Optional<Instant> next(Instant after, ZoneId zone, Instant anchor) {
      return CronRule.parse(expression).next(after, zone);
    }

    @Override
    public String describe() {
      return expression;
    }
  }

  /** An interval trigger; see {@link Trigger#every}. */
  record Every(Duration interval) implements Trigger {
    public Every {
      Objects.requireNonNull(interval, "interval");
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException(
            "interval must be at least 1 second but was " + interval);
      }
    }

    @Override
    public Optional<Instant> next(Instant after, ZoneId zone, Instant anchor) {
      long step = interval.toMillis();
      long since = after.toEpochMilli() - anchor.toEpochMilli();
      if (since < 0) {
        return Optional.of(anchor);
      }
      long k = since / step + 1;
      return Optional.of(anchor.plusMillis(k * step));
    }

    @Override
    public String describe() {
      return "every " + interval;
    }
  }

  /** A one-off trigger; see {@link Trigger#at}. */
  record At(Instant instant) implements Trigger {
    public At {
      Objects.requireNonNull(instant, "instant");
    }

    @Override
    public Optional<Instant> next(Instant after, ZoneId zone, Instant anchor) {
      return instant.isAfter(after) ? Optional.of(instant) : Optional.empty();
    }

    @Override
    public String describe() {
      return "at " + instant;
    }
  }
}
