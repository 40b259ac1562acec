package dev.errand.redis.internal;

/**
 * How many replicas must hold a write before Errand counts it done: the URL's {@code durability}
 * parameter. Redis replicates asynchronously, so a write its master acknowledged can be lost when
 * that master dies before a replica has it; with {@code replicas > 0} Errand follows each enqueue
 * and each batch of outcome writes with {@code WAIT replicas timeout} on the connection that wrote
 * them (on Redis Cluster: on each master written to). Immutable.
 *
 * @param replicas how many replicas must acknowledge; 0 (the default, {@code none}) waits for none
 * @param timeout how long to wait for them ({@code durability_timeout}, default 2 s); a write not
 *     acknowledged by then fails with {@link dev.errand.BackendUnavailableException}, though it is
 *     on the master and may well survive
 */
public record Durability(int replicas, java.time.Duration timeout) {

  /** The default wait for replicas: 2 s. */
  public static final java.time.Duration DEFAULT_TIMEOUT = java.time.Duration.ofSeconds(2);

  /** The default: the master's acknowledgement is enough. */
  public static final Durability NONE = new Durability(0, DEFAULT_TIMEOUT);

  public Durability {
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must be >= 0 but was " + replicas);
    }
  }

  /** This durability with another timeout. */
  Durability withTimeout(java.time.Duration t) {
    return new Durability(replicas, t);
  }

  /** Whether writes wait for replicas. */
  public boolean waits() {
    return replicas > 0;
  }

  /**
   * Reads {@code none}, {@code replica} (one replica) or {@code replicas:N}.
   *
   * @throws IllegalArgumentException naming the URL's parameter and value otherwise
   */
  static Durability parse(String url, String value) {
    String v = value.strip();
    if (v.equals("none")) {
      return NONE;
    }
    if (v.equals("replica")) {
      return new Durability(1, DEFAULT_TIMEOUT);
    }
    if (v.startsWith("replicas:")) {
      try {
        int n = Integer.parseInt(v.substring("replicas:".length()));
        if (n >= 1 && n <= 16) {
          return new Durability(n, DEFAULT_TIMEOUT);
        }
      } catch (NumberFormatException ignored) {
        // reported below
      }
    }
    throw new IllegalArgumentException(
        "Redis URL '"
            + RedisUrl.redact(url)
            + "': durability='"
            + value
            + "' is not valid (expected none, replica or replicas:N with N from 1 to 16)");
  }

  @Override
  public String toString() {
    return replicas == 0 ? "none" : replicas == 1 ? "replica" : "replicas:" + replicas;
  }
}
