package dev.errand;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rate: at most {@code permits} task starts per {@code period}, written {@code 10/s}, {@code
 * 30/m}, {@code 1000/h} or {@code 5/d}. Enforced by the broker across every worker of the cluster
 * (see {@link TaskOptions.Builder#rateLimit(String)}). Immutable.
 *
 * @param permits starts allowed per period, {@code 1..1,000,000}
 * @param period the period: one second, minute, hour or day
 */
public record RateLimit(int permits, Duration period) {

  private static final Pattern SPEC =
      Pattern.compile("\\s*(\\d{1,7})\\s*/\\s*(s|sec|second|m|min|minute|h|hour|d|day)\\s*");

  public RateLimit {
    Objects.requireNonNull(period, "period");
    if (permits < 1 || permits > 1_000_000) {
      throw new IllegalArgumentException("rate permits must be 1-1000000 but was " + permits);
    }
    if (period.isNegative() || period.isZero() || period.compareTo(Duration.ofDays(1)) > 0) {
      throw new IllegalArgumentException("rate period must be > 0 and <= 1 day but was " + period);
    }
  }

  /**
   * Parses {@code N/s}, {@code N/m}, {@code N/h} or {@code N/d} (also {@code sec}, {@code min},
   * {@code hour}, {@code day}).
   *
   * @throws IllegalArgumentException naming the text when it is not such a rate
   */
  public static RateLimit parse(String spec) {
    Objects.requireNonNull(spec, "rate limit");
    Matcher m = SPEC.matcher(spec.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "rate limit must be N/s, N/m, N/h or N/d (e.g. 10/s) but was '" + spec + "'");
    }
    Duration period =
        switch (m.group(2).charAt(0)) {
          case 's' -> Duration.ofSeconds(1);
          case 'm' -> Duration.ofMinutes(1);
          case 'h' -> Duration.ofHours(1);
          default -> Duration.ofDays(1);
        };
    return new RateLimit(Integer.parseInt(m.group(1)), period);
  }

  @Override
  public String toString() {
    String unit =
        period.equals(Duration.ofSeconds(1))
            ? "s"
            : period.equals(Duration.ofMinutes(1))
                ? "m"
                : period.equals(Duration.ofHours(1))
                    ? "h"
                    : period.equals(Duration.ofDays(1)) ? "d" : period.toString();
    return permits + "/" + unit;
  }
}
