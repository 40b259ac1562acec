package dev.errand.cli.internal;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Durations as people write them: {@code 250ms}, {@code 10s}, {@code 5m}, {@code 2h}, {@code 1d},
 * or ISO {@code PT10S}. A sign is read ({@code -5s}) so that each option can say that it must be
 * positive, instead of the value being called "not a duration". Whether zero or a negative value
 * makes sense is the option's to decide (see {@link Checks}); this converter refuses only what no
 * option can take: more than {@link #MAX}.
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

  /**
   * The longest duration any option takes: 100 years. Durations end up as nanoseconds in timed
   * waits ({@code System.nanoTime() + d}), which overflow at 292 years; 100 years leaves the room
   * and is beyond any sensible value, so a larger one is a typo.
   */
  static final Duration MAX = Duration.ofDays(36_500);

  private static final Pattern SIMPLE = Pattern.compile("([-+]?\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String value) {
    String v = value.strip().toLowerCase(java.util.Locale.ROOT);
    Matcher m = SIMPLE.matcher(v);
    Duration d;
    if (m.matches()) {
      long unitMillis =
          switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            case "h" -> 3_600_000;
            default -> 86_400_000;
          };
      // Exact decimal arithmetic: a double would round 1.1s, and clamp a huge value silently.
      BigDecimal millis =
          new BigDecimal(m.group(1))
              .multiply(BigDecimal.valueOf(unitMillis))
              .setScale(0, RoundingMode.HALF_UP);
      if (millis.abs().compareTo(BigDecimal.valueOf(MAX.toMillis())) > 0) {
        throw tooLong(value);
      }
      d = Duration.ofMillis(millis.longValueExact());
    } else {
      try {
        d = Duration.parse(value.strip());
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration (use 250ms, 10s, 5m, 2h, 1d or PT10S)");
      }
    }
    if (d.abs().compareTo(MAX) > 0) {
      throw tooLong(value);
    }
    return d;
  }

  private static CommandLine.TypeConversionException tooLong(String value) {
    return new CommandLine.TypeConversionException(
        "'"
            + value
            + "' is longer than 100 years, the longest duration errand takes (durations become"
            + " nanoseconds in timed waits, which overflow at 292 years)");
  }

  /** {@code d} as the flags are written: {@code 250ms}, {@code 45s}, {@code 1h30m}, {@code -5s}. */
  static String format(Duration d) {
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    if (d.isZero()) {
      return "0s";
    }
    long ms = d.toMillis();
    if (ms < 1000 || d.toMillisPart() != 0) {
      return d.getNano() % 1_000_000 == 0 ? ms + "ms" : d.toString();
    }
    StringBuilder s = new StringBuilder();
    long days = d.toDaysPart();
    if (days > 0) s.append(days).append('d');
    if (d.toHoursPart() > 0) s.append(d.toHoursPart()).append('h');
    if (d.toMinutesPart() > 0) s.append(d.toMinutesPart()).append('m');
    if (d.toSecondsPart() > 0) s.append(d.toSecondsPart()).append('s');
    return s.toString();
  }
}
