package dev.errand.spi;

import java.util.Objects;

/**
 * The limit a message is subject to: the broker lets at most {@code permits} messages of the same
 * {@code key} (in the same queue) start per {@code periodMillis}, with up to {@code burst} at once
 * after a quiet spell, and at most {@code concurrency} of them leased at once. A message held back
 * waits in the broker, not in a consumer. Each enqueue states the limit of its key; the latest
 * stated applies.
 *
 * @param key the limit key, 1-1000 characters; messages of one key in one queue share the limit
 * @param permits starts per period, 0 for no rate limit
 * @param periodMillis the rate's period in milliseconds ({@code > 0} with permits)
 * @param burst how many may start at once after a quiet spell, {@code >= 1}
 * @param concurrency the most leased at once, 0 for no concurrency limit
 */
public record FlowLimit(String key, int permits, long periodMillis, int burst, int concurrency) {

  /** The longest limit key: {@value} characters. */
  public static final int MAX_KEY_LENGTH = 1000;

  public FlowLimit {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "limit key must be 1-" + MAX_KEY_LENGTH + " characters but was " + key.length());
    }
    if (permits < 0 || concurrency < 0 || burst < 1) {
      throw new IllegalArgumentException(
          "limit needs permits >= 0, burst >= 1 and concurrency >= 0 but was "
              + describe(permits, periodMillis, burst, concurrency));
    }
    if (permits > 0 && periodMillis <= 0) {
      throw new IllegalArgumentException("a rate limit needs a period > 0 but was " + periodMillis);
    }
    if (permits == 0 && concurrency == 0) {
      throw new IllegalArgumentException(
          "limit '" + key + "' sets neither a rate nor a concurrency");
    }
  }

  /** Whether starts are limited per period. */
  public boolean hasRate() {
    return permits > 0;
  }

  /** Milliseconds between two starts at the steady rate (fractional: 1000/s is 1.0). */
  public double intervalMillis() {
    return (double) periodMillis / permits;
  }

  /** The rate as written in options ({@code 10/s}, {@code 30/m}), or null without one. */
  public String rateText() {
    if (permits == 0) {
      return null;
    }
    String unit =
        periodMillis == 1000
            ? "s"
            : periodMillis == 60_000
                ? "m"
                : periodMillis == 3_600_000
                    ? "h"
                    : periodMillis == 86_400_000 ? "d" : periodMillis + "ms";
    return permits + "/" + unit;
  }

  private static String describe(int permits, long periodMillis, int burst, int concurrency) {
    return "permits "
        + permits
        + " per "
        + periodMillis
        + " ms, burst "
        + burst
        + ", concurrency "
        + concurrency;
  }
}
