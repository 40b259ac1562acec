package dev.errand.scheduler.internal;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A parsed cron expression (through cron-utils) and its next fire time, with Errand's rules for
 * daylight saving changes on top (see {@code Trigger.Cron}). Immutable and thread-safe; parsed
 * rules are cached by expression.
 */
public final class CronRule {

  private static final CronParser FIVE_FIELDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser SIX_FIELDS = new CronParser(unixWithSeconds());
  private static final Map<String, String> ALIASES =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");
  private static final int CACHE_LIMIT = 1_000;
  private static final Map<String, CronRule> CACHE = new ConcurrentHashMap<>();

  private final ExecutionTime times;
  private final boolean fixedHour;

  private CronRule(ExecutionTime times, boolean fixedHour) {
    this.times = times;
    this.fixedHour = fixedHour;
  }

  /**
   * Parses {@code expression}.
   *
   * @throws IllegalArgumentException naming the expression and what is wrong with it
   */
  public static CronRule parse(String expression) {
    CronRule cached = CACHE.get(expression);
    if (cached != null) {
      return cached;
    }
    CronRule rule = compile(expression);
    if (CACHE.size() >= CACHE_LIMIT) {
      CACHE.clear();
    }
    CACHE.put(expression, rule);
    return rule;
  }

  private static CronRule compile(String expression) {
    String text = expression.strip();
    String expanded = ALIASES.getOrDefault(text.toLowerCase(Locale.ROOT), text);
    if (expanded.startsWith("@")) {
      throw new IllegalArgumentException(
          "cron expression '"
              + expression
              + "': unknown alias (known: @yearly, @annually, @monthly, @weekly, @daily,"
              + " @midnight, @hourly)");
    }
    String[] fields = expanded.split("\\s+");
    if (fields.length != 5 && fields.length != 6) {
      throw new IllegalArgumentException(
          "cron expression '"
              + expression
              + "' has "
              + fields.length
              + " fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (with"
              + " seconds first)");
    }
    Cron cron;
    try {
      cron =
          (fields.length == 5 ? FIVE_FIELDS : SIX_FIELDS).parse(expanded.toUpperCase(Locale.ROOT));
      cron.validate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cron expression '" + expression + "' is not valid: " + e.getMessage(), e);
    }
    String hour = fields[fields.length == 5 ? 1 : 2];
    return new CronRule(ExecutionTime.forCron(cron), !hour.startsWith("*"));
  }

  /** The first fire time strictly after {@code after} in {@code zone}, or empty if none. */
  public Optional<Instant> next(Instant after, ZoneId zone) {
    Optional<Instant> regular =
        times.nextExecution(after.atZone(zone)).map(ZonedDateTime::toInstant);
    if (!fixedHour) {
      return regular;
    }
    // A fixed-hour fire time inside a skipped (spring-forward) hour runs once, at the change.
    Instant limit = regular.orElse(after.plus(Duration.ofDays(400)));
    ZoneOffsetTransition t = zone.getRules().nextTransition(after);
    while (t != null && !t.getInstant().isAfter(limit)) {
      if (t.isGap() && t.getInstant().isBefore(limit) && matchesIn(t.getDateTimeBefore(), t)) {
        return Optional.of(t.getInstant());
      }
      t = zone.getRules().nextTransition(t.getInstant());
    }
    return regular;
  }

  /** Whether the expression names a wall-clock time in the gap of {@code gap}. */
  private boolean matchesIn(LocalDateTime gapStart, ZoneOffsetTransition gap) {
    // Wall-clock arithmetic in a zone without transitions.
    Optional<ZonedDateTime> first =
        times.nextExecution(gapStart.minusSeconds(1).atZone(ZoneOffset.UTC));
    return first.isPresent() && first.get().toLocalDateTime().isBefore(gap.getDateTimeAfter());
  }

  /** Unix cron fields (day of week 0-7, Sunday 0 or 7) after a seconds field. */
  private static CronDefinition unixWithSeconds() {
    return CronDefinitionBuilder.defineCron()
        .withSeconds()
        .withStrictRange()
        .and()
        .withMinutes()
        .withStrictRange()
        .and()
        .withHours()
        .withStrictRange()
        .and()
        .withDayOfMonth()
        .withStrictRange()
        .and()
        .withMonth()
        .withStrictRange()
        .and()
        .withDayOfWeek()
        .withValidRange(0, 7)
        .withMondayDoWValue(1)
        .withIntMapping(7, 0)
        .withStrictRange()
        .and()
        .instance();
  }
}
