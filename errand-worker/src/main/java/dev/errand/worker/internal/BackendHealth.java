package dev.errand.worker.internal;

/**
 * When the backend last answered a call of this worker (claims, lease renewals, heartbeats, outcome
 * writes). The outcome writer asks it whether a write keeps failing while everything else goes
 * through: then the write itself is at fault, not the backend. Thread-safe.
 */
public final class BackendHealth {

  private volatile long lastAnswerNanos = System.nanoTime();

  /** Records that a call to the backend succeeded just now. */
  public void answered() {
    lastAnswerNanos = System.nanoTime();
  }

  /** Whether the backend answered a call after {@code nanos} (a {@link System#nanoTime()}). */
  public boolean answeredSince(long nanos) {
    return lastAnswerNanos - nanos > 0;
  }
}
