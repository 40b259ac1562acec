package dev.errand.cli.internal;

import dev.errand.TaskOptions;
import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.Trigger;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The flags of {@code errand schedule add} and {@code edit}: each one given sets that field; for
 * {@code edit}, {@code none} clears an optional one. Times are ISO-8601 instants ({@code
 * 2026-12-24T18:00:00Z}), with an offset, or local date-times read in the schedule's zone.
 */
final class ScheduleDefinition {

  @Option(names = "--task", paramLabel = "TASK", description = "The task name to send.")
  String task;

  @Option(
      names = "--cron",
      paramLabel = "EXPR",
      description =
          "Cron: 5 fields (min hour day month weekday), 6 with seconds first, or @daily, @hourly...")
  String cron;

  @Option(
      names = "--every",
      paramLabel = "DURATION",
      description = "A fixed interval (at least 1s): 30s, 15m, 1h, PT15M.")
  String every;

  @Option(names = "--at", paramLabel = "TIME", description = "Once, at this time.")
  String at;

  @Option(
      names = "--args",
      paramLabel = "JSON",
      description = "Arguments as JSON: an array is positional, an object keyword arguments.")
  String args;

  @Option(
      names = "--zone",
      paramLabel = "ZONE",
      description = "Time zone of cron fields and local times, e.g. Europe/Berlin (default: UTC).")
  String zone;

  @Option(names = "--queue", paramLabel = "QUEUE", description = "Queue to send to.")
  String queue;

  @Option(names = "--priority", paramLabel = "0-9", description = "Priority, 9 first.")
  String priority;

  @Option(
      names = "--expires",
      paramLabel = "DURATION",
      description = "A sent task expires if not started this long after its tick.")
  String expires;

  @Option(names = "--start", paramLabel = "TIME", description = "No tick before this time.")
  String start;

  @Option(names = "--end", paramLabel = "TIME", description = "No tick after this time.")
  String end;

  @Option(names = "--max-runs", paramLabel = "N", description = "Fire at most N ticks.")
  String maxRuns;

  @Option(
      names = "--missed",
      paramLabel = "POLICY",
      description =
          "Missed ticks: run-once (default: one task for the latest missed tick), skip,"
              + " catch-up or catch-up:N (fire up to N).")
  String missed;

  /** Applies every flag given to {@code b}; {@code current} is the stored zone or null. */
  Schedule.Builder applyTo(Schedule.Builder b, ZoneId current) {
    int triggers = (cron != null ? 1 : 0) + (every != null ? 1 : 0) + (at != null ? 1 : 0);
    if (triggers > 1) {
      throw new UsageException("give one of --cron, --every and --at, not " + triggers);
    }
    ZoneId z = current == null ? Schedule.DEFAULT_ZONE : current;
    if (zone != null) {
      try {
        z = ZoneId.of(zone);
      } catch (DateTimeException e) {
        throw new UsageException("--zone '" + zone + "' is not a time zone like Europe/Berlin");
      }
      b.zone(z);
    }
    if (task != null) b.task(task);
    if (cron != null) b.cron(cron);
    if (every != null) {
      Duration interval = duration("--every", every);
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new UsageException(
            "--every must be at least 1s but was " + DurationConverter.format(interval));
      }
      b.trigger(Trigger.every(interval));
    }
    if (at != null) b.at(time("--at", at, z));
    if (args != null) b.args(JsonArgument.arrayOrObject("--args", args));
    if (queue != null) b.queue(none(queue) ? null : queue);
    if (priority != null) {
      b.priority(
          none(priority)
              ? null
              : Checks.between(
                  "--priority",
                  integer("--priority", priority),
                  TaskOptions.MIN_PRIORITY,
                  TaskOptions.MAX_PRIORITY));
    }
    if (expires != null) {
      b.expires(
          none(expires) ? null : Checks.positive("--expires", duration("--expires", expires)));
    }
    if (start != null) b.start(none(start) ? null : time("--start", start, z));
    if (end != null) b.end(none(end) ? null : time("--end", end, z));
    if (maxRuns != null) {
      b.maxRuns(
          none(maxRuns)
              ? null
              : (long) Checks.positive("--max-runs", integer("--max-runs", maxRuns)));
    }
    if (missed != null) b.missedRuns(MissedRuns.parse(missed));
    return b;
  }

  boolean hasTrigger() {
    return cron != null || every != null || at != null;
  }

  private static boolean none(String v) {
    return v.equalsIgnoreCase("none");
  }

  private static Duration duration(String flag, String v) {
    try {
      return DurationConverter.parse(v);
    } catch (CommandLine.TypeConversionException e) {
      throw new UsageException(flag + " " + e.getMessage());
    }
  }

  private static int integer(String flag, String v) {
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new UsageException(flag + " must be a whole number but was '" + v + "'");
    }
  }

  /** An instant, a date-time with an offset, or a local date-time in {@code zone}, near now. */
  static Instant time(String flag, String v, ZoneId zone) {
    return Checks.nearNow(flag, v, parseTime(flag, v, zone));
  }

  private static Instant parseTime(String flag, String v, ZoneId zone) {
    String t = v.strip();
    try {
      return Instant.parse(t);
    } catch (DateTimeException ignored) {
      // not an instant: try the other forms
    }
    try {
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeException ignored) {
      // no offset: a local time
    }
    try {
      return LocalDateTime.parse(t).atZone(zone).toInstant();
    } catch (DateTimeException e) {
      throw new UsageException(
          flag
              + " '"
              + v
              + "' is not a time like 2026-12-24T18:00:00Z, 2026-12-24T18:00+01:00 or"
              + " 2026-12-24T18:00 (in --zone)");
    }
  }
}
