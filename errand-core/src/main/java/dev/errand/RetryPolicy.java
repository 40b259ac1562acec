package dev.errand;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * When and how soon a failed task is tried again. Immutable and thread-safe.
 *
 * <p>The delay before retry {@code n} (0-based) is exponential, {@code min(cap, base * 2^n)}, and
 * with full jitter (the default) a uniformly random duration between zero and that bound, which
 * spreads a burst of failures instead of retrying them in lock step.
 *
 * <p>Which errors are retried: never an {@link Error}; never an exception whose class (or a
 * superclass) is in {@link #neverRetry()}; otherwise, if {@link #retryOn()} is empty, every
 * exception, else only those whose class or a superclass is listed. Classes are matched by name, so
 * a policy can travel on the wire without any class being loaded from a message.
 */
public final class RetryPolicy {

  /** Default number of retries after the first attempt: {@value}. */
  public static final int DEFAULT_MAX_RETRIES = 3;

  /** Default base of the exponential backoff: 1 second. */
  public static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(1);

  /** Default cap of the exponential backoff: 10 minutes. */
  public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofMinutes(10);

  /** Full jitter is on by default. */
  public static final boolean DEFAULT_JITTER = true;

  private static final RetryPolicy DEFAULTS = builder().build();
  private static final RetryPolicy NONE = builder().maxRetries(0).build();

  private final int maxRetries;
  private final Duration backoff;
  private final Duration backoffMax;
  private final boolean jitter;
  private final Set<String> retryOn;
  private final Set<String> neverRetry;

  private RetryPolicy(Builder b) {
    this.maxRetries = b.maxRetries;
    this.backoff = b.backoff;
    this.backoffMax = b.backoffMax;
    this.jitter = b.jitter;
    this.retryOn = Collections.unmodifiableSet(new LinkedHashSet<>(b.retryOn));
    this.neverRetry = Collections.unmodifiableSet(new LinkedHashSet<>(b.neverRetry));
  }

  /** The default policy: 3 retries, backoff 1 s doubling up to 10 min, full jitter. */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /** A policy that never retries. */
  public static RetryPolicy none() {
    return NONE;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this policy. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxRetries = maxRetries;
    b.backoff = backoff;
    b.backoffMax = backoffMax;
    b.jitter = jitter;
    b.retryOn.addAll(retryOn);
    b.neverRetry.addAll(neverRetry);
    return b;
  }

  /** How many retries after the first attempt; 0 means no retry. */
  public int maxRetries() {
    return maxRetries;
  }

  /** The backoff base: the bound of the first retry's delay. */
  public Duration backoff() {
    return backoff;
  }

  /** The cap of the exponential backoff. */
  public Duration backoffMax() {
    return backoffMax;
  }

  /** Whether the delay is drawn uniformly between zero and the exponential bound. */
  public boolean jitter() {
    return jitter;
  }

  /** Class names of exceptions to retry; empty means every exception. */
  public Set<String> retryOn() {
    return retryOn;
  }

  /** Class names of exceptions never to retry; takes precedence over {@link #retryOn()}. */
  public Set<String> neverRetry() {
    return neverRetry;
  }

  /**
   * Whether {@code error} is of a kind this policy retries (ignoring the retry count).
   *
   * @param error the error the handler threw
   */
  public boolean retries(Throwable error) {
    Objects.requireNonNull(error, "error");
    if (error instanceof Error) {
      return false;
    }
    if (matches(error, neverRetry)) {
      return false;
    }
    return retryOn.isEmpty() || matches(error, retryOn);
  }

  /** Whether a task that has already been retried {@code retries} times may retry again. */
  public boolean hasRetriesLeft(int retries) {
    return retries < maxRetries;
  }

  /**
   * The upper bound of the delay before retry number {@code retries} (0-based): {@code min(cap,
   * base * 2^retries)}.
   */
  public Duration backoffBound(int retries) {
    if (retries < 0) {
      throw new IllegalArgumentException("retries must be >= 0 but was " + retries);
    }
    long base = backoff.toMillis();
    long cap = backoffMax.toMillis();
    // 2^62 overflows nothing below; beyond that the cap has long been reached.
    int shift = Math.min(retries, 62);
    long bound = base == 0 ? 0 : (base > (cap >> shift) ? cap : base << shift);
    return Duration.ofMillis(Math.min(bound, cap));
  }

  /**
   * The delay before retry number {@code retries} (0-based), drawn from {@code random} when jitter
   * is on.
   */
  public Duration delay(int retries, RandomGenerator random) {
    Duration bound = backoffBound(retries);
    if (!jitter || bound.isZero()) {
      return bound;
    }
    return Duration.ofMillis(random.nextLong(bound.toMillis() + 1));
  }

  private static boolean matches(Throwable error, Set<String> names) {
    if (names.isEmpty()) {
      return false;
    }
    for (Class<?> c = error.getClass(); c != null; c = c.getSuperclass()) {
      if (names.contains(c.getName())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetryPolicy p
        && maxRetries == p.maxRetries
        && jitter == p.jitter
        && backoff.equals(p.backoff)
        && backoffMax.equals(p.backoffMax)
        && retryOn.equals(p.retryOn)
        && neverRetry.equals(p.neverRetry);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxRetries, backoff, backoffMax, jitter, retryOn, neverRetry);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxRetries="
        + maxRetries
        + ", backoff="
        + backoff
        + ", backoffMax="
        + backoffMax
        + ", jitter="
        + jitter
        + ", retryOn="
        + retryOn
        + ", neverRetry="
        + neverRetry
        + '}';
  }

  /** Builds a {@link RetryPolicy}. Not thread-safe. */
  public static final class Builder {
    private int maxRetries = DEFAULT_MAX_RETRIES;
    private Duration backoff = DEFAULT_BACKOFF;
    private Duration backoffMax = DEFAULT_BACKOFF_MAX;
    private boolean jitter = DEFAULT_JITTER;
    private final Set<String> retryOn = new LinkedHashSet<>();
    private final Set<String> neverRetry = new LinkedHashSet<>();

    private Builder() {}

    /** Retries after the first attempt, {@code >= 0}; default {@value #DEFAULT_MAX_RETRIES}. */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0 but was " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /** Backoff base, {@code >= 0}; default 1 s. */
    public Builder backoff(Duration backoff) {
      this.backoff = nonNegative("backoff", backoff);
      return this;
    }

    /** Backoff cap, {@code >= 0}; default 10 min. Must not be below the base. */
    public Builder backoffMax(Duration backoffMax) {
      this.backoffMax = nonNegative("backoffMax", backoffMax);
      return this;
    }

    /** Full jitter on or off; default on. */
    public Builder jitter(boolean jitter) {
      this.jitter = jitter;
      return this;
    }

    /** Retry only these exception classes (and their subclasses). */
    @SafeVarargs
    public final Builder retryOn(Class<? extends Throwable>... types) {
      for (Class<? extends Throwable> t : types) {
        retryOn.add(t.getName());
      }
      return this;
    }

    /** Retry only exceptions of these class names (and their subclasses). */
    public Builder retryOnNames(Iterable<String> classNames) {
      classNames.forEach(retryOn::add);
      return this;
    }

    /** Never retry these exception classes (and their subclasses). */
    @SafeVarargs
    public final Builder neverRetry(Class<? extends Throwable>... types) {
      for (Class<? extends Throwable> t : types) {
        neverRetry.add(t.getName());
      }
      return this;
    }

    /** Never retry exceptions of these class names (and their subclasses). */
    public Builder neverRetryNames(Iterable<String> classNames) {
      classNames.forEach(neverRetry::add);
      return this;
    }

    /**
     * Builds the policy.
     *
     * @throws IllegalArgumentException if the cap is below the base
     */
    public RetryPolicy build() {
      if (backoffMax.compareTo(backoff) < 0) {
        throw new IllegalArgumentException(
            "backoffMax must be >= backoff (" + backoff + ") but was " + backoffMax);
      }
      return new RetryPolicy(this);
    }

    private static Duration nonNegative(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must be >= 0 but was " + d);
      }
      return d;
    }
  }
}
