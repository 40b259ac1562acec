package dev.errand.scheduler;

import java.util.Objects;

/**
 * What a schedule does with ticks that passed while no scheduler was leading (all were down, or a
 * failover was under way), or while its leader was slower than {@link Beat#DEFAULT_MISFIRE_GRACE}.
 * A tick is missed when it is found more than the grace after its time. Ticks skipped while a
 * schedule was paused are not missed: resuming starts from the next tick. A schedule that says
 * nothing gets {@link Schedule#DEFAULT_MISSED_RUNS}, {@link #runOnce()}.
 *
 * @param policy what to do
 * @param bound for {@link Policy#CATCH_UP}, the most missed ticks fired (the latest ones); 1 for
 *     the others
 */
public record MissedRuns(Policy policy, int bound) {

  /** Missed ticks fired by {@link #catchUp()} unless another bound is given: {@value}. */
  public static final int DEFAULT_CATCH_UP_BOUND = 100;

  /** The largest catch-up bound: {@value}. */
  public static final int MAX_CATCH_UP_BOUND = 10_000;

  /** The policies. */
  public enum Policy {
    /** Fire none of the missed ticks; continue with the next one. */
    SKIP,
    /**
     * Fire one task for all the missed ticks (for the latest of them), then continue: the default
     * ({@link Schedule#DEFAULT_MISSED_RUNS}), and what Celery beat does.
     */
    RUN_ONCE,
    /** Fire every missed tick, in order, up to the bound (the latest ones). */
    CATCH_UP
  }

  public MissedRuns {
    Objects.requireNonNull(policy, "policy");
    if (policy == Policy.CATCH_UP && (bound < 1 || bound > MAX_CATCH_UP_BOUND)) {
      throw new IllegalArgumentException(
          "catch-up bound must be 1-" + MAX_CATCH_UP_BOUND + " but was " + bound);
    }
    if (policy != Policy.CATCH_UP && bound != 1) {
      throw new IllegalArgumentException(
          "only catch-up has a bound, but " + policy + " had " + bound);
    }
  }

  /** Fire none of the missed ticks. */
  public static MissedRuns skip() {
    return new MissedRuns(Policy.SKIP, 1);
  }

  /** Fire one catch-up task for all the missed ticks (the default). */
  public static MissedRuns runOnce() {
    return new MissedRuns(Policy.RUN_ONCE, 1);
  }

  /** Fire every missed tick, up to {@value #DEFAULT_CATCH_UP_BOUND}. */
  public static MissedRuns catchUp() {
    return catchUp(DEFAULT_CATCH_UP_BOUND);
  }

  /** Fire every missed tick, up to {@code bound} (1 to {@value #MAX_CATCH_UP_BOUND}). */
  public static MissedRuns catchUp(int bound) {
    return new MissedRuns(Policy.CATCH_UP, bound);
  }

  /**
   * Parses the text form written by {@link #toString()}: {@code skip}, {@code run-once}, {@code
   * catch-up} or {@code catch-up:N}.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static MissedRuns parse(String text) {
    Objects.requireNonNull(text, "missed-run policy");
    String t = text.strip().toLowerCase(java.util.Locale.ROOT);
    switch (t) {
      case "skip":
        return skip();
      case "run-once":
        return runOnce();
      case "catch-up":
        return catchUp();
      default:
        if (t.startsWith("catch-up:")) {
          try {
            return catchUp(Integer.parseInt(t.substring("catch-up:".length())));
          } catch (NumberFormatException e) {
            // falls through to the message below
          }
        }
        throw new IllegalArgumentException(
            "missed-run policy must be skip, run-once, catch-up or catch-up:N but was '"
                + text
                + "'");
    }
  }

  /** {@code skip}, {@code run-once} or {@code catch-up:N}. */
  @Override
  public String toString() {
    return switch (policy) {
      case SKIP -> "skip";
      case RUN_ONCE -> "run-once";
      case CATCH_UP -> "catch-up:" + bound;
    };
  }
}
