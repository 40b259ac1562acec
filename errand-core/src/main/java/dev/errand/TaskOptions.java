package dev.errand;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of a task, given as the defaults of a {@link TaskDef} or per call to {@link
 * Client#enqueue(TaskDef, Object, TaskOptions)}. Every option is optional: an unset option ({@code
 * null}) falls back to the next level (call, then routing rules for the queue, then the task's
 * definition, then the {@code DEFAULT_*} constant). Immutable and thread-safe.
 */
public final class TaskOptions {

  /** The queue used when nothing else names one: {@value}. */
  public static final String DEFAULT_QUEUE = "default";

  /** Default priority, in the middle of 0 (last) to 9 (first): {@value}. */
  public static final int DEFAULT_PRIORITY = 5;

  /** Lowest priority: {@value}. */
  public static final int MIN_PRIORITY = 0;

  /** Highest priority, run first: {@value}. */
  public static final int MAX_PRIORITY = 9;

  /** How long an idempotency key deduplicates enqueues by default: 24 hours. */
  public static final Duration DEFAULT_IDEMPOTENCY_WINDOW = Duration.ofHours(24);

  /** Tasks are acknowledged after their outcome is recorded by default (acks late). */
  public static final boolean DEFAULT_ACKS_LATE = true;

  private static final TaskOptions NONE = builder().build();

  private final String queue;
  private final Integer priority;
  private final Duration countdown;
  private final Instant eta;
  private final Duration expires;
  private final Instant expiresAt;
  private final Boolean ignoreResult;
  private final String idempotencyKey;
  private final Duration idempotencyWindow;
  private final RetryPolicy retry;
  private final Duration softTimeLimit;
  private final Duration hardTimeLimit;
  private final Boolean acksLate;
  private final String requestId;
  private final Map<String, String> headers;
  private final RateLimit rateLimit;
  private final Integer rateBurst;
  private final Integer concurrencyLimit;
  private final String limitKey;
  private final String uniqueKey;

  private TaskOptions(Builder b) {
    this.queue = b.queue;
    this.priority = b.priority;
    this.countdown = b.countdown;
    this.eta = b.eta;
    this.expires = b.expires;
    this.expiresAt = b.expiresAt;
    this.ignoreResult = b.ignoreResult;
    this.idempotencyKey = b.idempotencyKey;
    this.idempotencyWindow = b.idempotencyWindow;
    this.retry = b.retry;
    this.softTimeLimit = b.softTimeLimit;
    this.hardTimeLimit = b.hardTimeLimit;
    this.acksLate = b.acksLate;
    this.requestId = b.requestId;
    this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
    this.rateLimit = b.rateLimit;
    this.rateBurst = b.rateBurst;
    this.concurrencyLimit = b.concurrencyLimit;
    this.limitKey = b.limitKey;
    this.uniqueKey = b.uniqueKey;
  }

  /** Options with nothing set. */
  public static TaskOptions none() {
    return NONE;
  }

  /** A new builder with nothing set. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, to derive changed ones. */
  public Builder toBuilder() {
    return new Builder().merge(this);
  }

  /** Options where every option set in {@code over} replaces this one's. */
  public TaskOptions overriddenBy(TaskOptions over) {
    if (over == null || over == NONE) {
      return this;
    }
    return toBuilder().merge(over).build();
  }

  /** The queue name, or null if unset. */
  public String queue() {
    return queue;
  }

  /** The cluster-wide rate limit of the task's starts (per limit key), or null if unset. */
  public RateLimit rateLimit() {
    return rateLimit;
  }

  /** How many may start at once after a quiet spell, or null (then 1). */
  public Integer rateBurst() {
    return rateBurst;
  }

  /** The most running at once across the cluster (per limit key), or null if unset. */
  public Integer concurrencyLimit() {
    return concurrencyLimit;
  }

  /**
   * The key the rate and concurrency limits count by, or null: then {@code task:NAME}, one limit
   * for every call of the task.
   */
  public String limitKey() {
    return limitKey;
  }

  /** The key that keeps a second call out while one is queued or running, or null. */
  public String uniqueKey() {
    return uniqueKey;
  }

  /** The priority 0-9 (9 runs first), or null if unset. */
  public Integer priority() {
    return priority;
  }

  /** Delay before the task may run, relative to sending, or null. */
  public Duration countdown() {
    return countdown;
  }

  /** Earliest instant the task may run, or null. Takes precedence over {@link #countdown()}. */
  public Instant eta() {
    return eta;
  }

  /** How long after sending the task expires if not started, or null. */
  public Duration expires() {
    return expires;
  }

  /** Instant after which the task expires if not started, or null; precedes {@link #expires()}. */
  public Instant expiresAt() {
    return expiresAt;
  }

  /** Whether no result is stored, or null if unset (default false). */
  public Boolean ignoreResult() {
    return ignoreResult;
  }

  /** The idempotency key, or null. */
  public String idempotencyKey() {
    return idempotencyKey;
  }

  /** How long the idempotency key deduplicates, or null (default 24 h). */
  public Duration idempotencyWindow() {
    return idempotencyWindow;
  }

  /** The retry policy, or null if unset. */
  public RetryPolicy retry() {
    return retry;
  }

  /** The soft time limit, or null if unset (no limit). */
  public Duration softTimeLimit() {
    return softTimeLimit;
  }

  /** The hard time limit, or null if unset (no limit). */
  public Duration hardTimeLimit() {
    return hardTimeLimit;
  }

  /** Whether the message is acknowledged after the outcome (true) or on receipt, or null. */
  public Boolean acksLate() {
    return acksLate;
  }

  /** The caller's request id carried to the worker's log context, or null. */
  public String requestId() {
    return requestId;
  }

  /** Extra headers carried with the message; never null. */
  public Map<String, String> headers() {
    return headers;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TaskOptions t
        && Objects.equals(queue, t.queue)
        && Objects.equals(priority, t.priority)
        && Objects.equals(countdown, t.countdown)
        && Objects.equals(eta, t.eta)
        && Objects.equals(expires, t.expires)
        && Objects.equals(expiresAt, t.expiresAt)
        && Objects.equals(ignoreResult, t.ignoreResult)
        && Objects.equals(idempotencyKey, t.idempotencyKey)
        && Objects.equals(idempotencyWindow, t.idempotencyWindow)
        && Objects.equals(retry, t.retry)
        && Objects.equals(softTimeLimit, t.softTimeLimit)
        && Objects.equals(hardTimeLimit, t.hardTimeLimit)
        && Objects.equals(acksLate, t.acksLate)
        && Objects.equals(requestId, t.requestId)
        && headers.equals(t.headers)
        && Objects.equals(rateLimit, t.rateLimit)
        && Objects.equals(rateBurst, t.rateBurst)
        && Objects.equals(concurrencyLimit, t.concurrencyLimit)
        && Objects.equals(limitKey, t.limitKey)
        && Objects.equals(uniqueKey, t.uniqueKey);
  }

  @Override
  public int hashCode() {
    return Objects.hash(queue, priority, countdown, eta, expires, idempotencyKey, retry);
  }

  @Override
  public String toString() {
    return "TaskOptions{queue="
        + queue
        + ", priority="
        + priority
        + ", countdown="
        + countdown
        + ", eta="
        + eta
        + ", expires="
        + (expiresAt != null ? expiresAt : expires)
        + ", ignoreResult="
        + ignoreResult
        + ", idempotencyKey="
        + idempotencyKey
        + ", retry="
        + retry
        + ", softTimeLimit="
        + softTimeLimit
        + ", hardTimeLimit="
        + hardTimeLimit
        + ", acksLate="
        + acksLate
        + (rateLimit != null ? ", rateLimit=" + rateLimit : "")
        + (concurrencyLimit != null ? ", concurrencyLimit=" + concurrencyLimit : "")
        + (limitKey != null ? ", limitKey=" + limitKey : "")
        + (uniqueKey != null ? ", uniqueKey=" + uniqueKey : "")
        + '}';
  }

  /** Builds {@link TaskOptions}; every setter validates its value eagerly. Not thread-safe. */
  public static final class Builder {
    private String queue;
    private Integer priority;
    private Duration countdown;
    private Instant eta;
    private Duration expires;
    private Instant expiresAt;
    private Boolean ignoreResult;
    private String idempotencyKey;
    private Duration idempotencyWindow;
    private RetryPolicy retry;
    private Duration softTimeLimit;
    private Duration hardTimeLimit;
    private Boolean acksLate;
    private String requestId;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private RateLimit rateLimit;
    private Integer rateBurst;
    private Integer concurrencyLimit;
    private String limitKey;
    private String uniqueKey;

    private Builder() {}

    /**
     * Limits how often the task starts, across every worker of the cluster: {@code 10/s}, {@code
     * 30/m}, {@code 1000/h} or {@code 5/d}; per {@link #limitKey} when one is set. A task held back
     * waits in the broker, never in a worker, and burns no retry. Default none.
     *
     * @throws IllegalArgumentException naming the text when it is not such a rate
     */
    public Builder rateLimit(String rate) {
      this.rateLimit = RateLimit.parse(rate);
      return this;
    }

    /** Limits how often the task starts (see {@link #rateLimit(String)}). */
    public Builder rateLimit(RateLimit rate) {
      this.rateLimit = Objects.requireNonNull(rate, "rateLimit");
      return this;
    }

    /**
     * How many may start at once after a quiet spell, {@code 1..1,000,000}; default 1 (starts
     * evenly spaced). Needs a {@link #rateLimit}.
     */
    public Builder rateBurst(int burst) {
      if (burst < 1 || burst > 1_000_000) {
        throw new IllegalArgumentException("rateBurst must be 1-1000000 but was " + burst);
      }
      this.rateBurst = burst;
      return this;
    }

    /**
     * At most {@code n} of the task (per {@link #limitKey} when one is set) run at once across the
     * cluster, {@code 1..1,000,000}; default none.
     */
    public Builder concurrencyLimit(int n) {
      if (n < 1 || n > 1_000_000) {
        throw new IllegalArgumentException("concurrencyLimit must be 1-1000000 but was " + n);
      }
      this.concurrencyLimit = n;
      return this;
    }

    /**
     * The key the rate and concurrency limits count by ({@code "seller:" + sellerId}), 1-1000
     * characters: each key has its own limits, created on first use and forgotten when idle.
     * Without one, the limits count every call of the task together. Keys are kept per queue.
     */
    public Builder limitKey(String key) {
      this.limitKey = checkKey("limitKey", key);
      return this;
    }

    /**
     * While a task enqueued with this key is queued, delayed, running or waiting to retry, another
     * enqueue with the same key (in the same queue) enqueues nothing and returns the first; the key
     * is released when the first ends (success, failure, revoke or dead letter). 1-1000 characters.
     */
    public Builder uniqueKey(String key) {
      this.uniqueKey = checkKey("uniqueKey", key);
      return this;
    }

    private static String checkKey(String name, String key) {
      Objects.requireNonNull(key, name);
      if (key.isEmpty() || key.length() > 1000) {
        throw new IllegalArgumentException(
            name + " must be 1-1000 characters but was " + key.length());
      }
      return key;
    }

    /** The queue to send to; a non-blank name of at most 200 characters without spaces. */
    public Builder queue(String queue) {
      this.queue = validQueue(queue);
      return this;
    }

    /** Priority from 0 to 9, 9 runs first; default {@value TaskOptions#DEFAULT_PRIORITY}. */
    public Builder priority(int priority) {
      if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
        throw new IllegalArgumentException("priority must be 0-9 but was " + priority);
      }
      this.priority = priority;
      return this;
    }

    /** Run no sooner than this long after sending; {@code >= 0}. */
    public Builder countdown(Duration countdown) {
      Objects.requireNonNull(countdown, "countdown");
      if (countdown.isNegative()) {
        throw new IllegalArgumentException("countdown must be >= 0 but was " + countdown);
      }
      this.countdown = countdown;
      return this;
    }

    /** Run no sooner than this instant. */
    public Builder eta(Instant eta) {
      this.eta = Objects.requireNonNull(eta, "eta");
      return this;
    }

    /** Revoke with reason "expired" if not started within this long after sending; {@code > 0}. */
    public Builder expires(Duration expires) {
      this.expires = positive("expires", expires);
      return this;
    }

    /** Revoke with reason "expired" if not started by this instant. */
    public Builder expiresAt(Instant expiresAt) {
      this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
      return this;
    }

    /** Store no result (and no states) for this task; default false. */
    public Builder ignoreResult(boolean ignoreResult) {
      this.ignoreResult = ignoreResult;
      return this;
    }

    /**
     * An idempotency key: a second enqueue with the same key within the window returns the first
     * task's id and enqueues nothing. At most 200 characters.
     */
    public Builder idempotencyKey(String key) {
      Objects.requireNonNull(key, "idempotencyKey");
      if (key.isBlank() || key.length() > 200) {
        throw new IllegalArgumentException(
            "idempotencyKey must be 1-200 non-blank characters but was '" + key + "'");
      }
      this.idempotencyKey = key;
      return this;
    }

    /** How long the idempotency key deduplicates; {@code > 0}, default 24 h. */
    public Builder idempotencyWindow(Duration window) {
      this.idempotencyWindow = positive("idempotencyWindow", window);
      return this;
    }

    /** The retry policy. */
    public Builder retry(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry");
      return this;
    }

    /** Interrupt the handler after this long; {@code > 0}; default none. */
    public Builder softTimeLimit(Duration limit) {
      this.softTimeLimit = positive("softTimeLimit", limit);
      return this;
    }

    /**
     * Give up on the handler after this long: the task fails (or retries), its slot is freed and
     * its thread abandoned; {@code > 0}; default none.
     */
    public Builder hardTimeLimit(Duration limit) {
      this.hardTimeLimit = positive("hardTimeLimit", limit);
      return this;
    }

    /** Acknowledge after the outcome is recorded (true, the default) or on receipt (false). */
    public Builder acksLate(boolean acksLate) {
      this.acksLate = acksLate;
      return this;
    }

    /** The caller's request id, put in the worker's log context (MDC) as {@code requestId}. */
    public Builder requestId(String requestId) {
      this.requestId = Objects.requireNonNull(requestId, "requestId");
      return this;
    }

    /** An extra header carried with the message. */
    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    Builder merge(TaskOptions o) {
      if (o.queue != null) queue = o.queue;
      if (o.priority != null) priority = o.priority;
      if (o.countdown != null) countdown = o.countdown;
      if (o.eta != null) eta = o.eta;
      if (o.expires != null) expires = o.expires;
      if (o.expiresAt != null) expiresAt = o.expiresAt;
      if (o.ignoreResult != null) ignoreResult = o.ignoreResult;
      if (o.idempotencyKey != null) idempotencyKey = o.idempotencyKey;
      if (o.idempotencyWindow != null) idempotencyWindow = o.idempotencyWindow;
      if (o.retry != null) retry = o.retry;
      if (o.softTimeLimit != null) softTimeLimit = o.softTimeLimit;
      if (o.hardTimeLimit != null) hardTimeLimit = o.hardTimeLimit;
      if (o.acksLate != null) acksLate = o.acksLate;
      if (o.requestId != null) requestId = o.requestId;
      headers.putAll(o.headers);
      if (o.rateLimit != null) rateLimit = o.rateLimit;
      if (o.rateBurst != null) rateBurst = o.rateBurst;
      if (o.concurrencyLimit != null) concurrencyLimit = o.concurrencyLimit;
      if (o.limitKey != null) limitKey = o.limitKey;
      if (o.uniqueKey != null) uniqueKey = o.uniqueKey;
      return this;
    }

    /** Builds the options. */
    public TaskOptions build() {
      return new TaskOptions(this);
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be > 0 but was " + d);
      }
      return d;
    }
  }

  /**
   * Checks a queue name: non-blank, at most 200 characters, no white space.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static String validQueue(String queue) {
    Objects.requireNonNull(queue, "queue");
    if (queue.isEmpty()
        || queue.length() > 200
        || queue.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(
          "queue must be 1-200 characters without white space but was '" + queue + "'");
    }
    return queue;
  }
}
