package dev.errand.worker;

import dev.errand.Client;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * What a running task knows about itself and can do: report progress, ask for a retry, notice a
 * soft time limit or revocation, and guard effects with {@link #once(String)}. One context per
 * attempt; use it only from the handler's thread and what it starts.
 */
public interface TaskContext {

  /** How long a {@link #once(String)} key is remembered by default: 7 days. */
  Duration DEFAULT_ONCE_TTL = Duration.ofDays(7);

  /** The task id. */
  String id();

  /** The task name. */
  String name();

  /** The queue the task came from. */
  String queue();

  /** The attempt number: 1 on the first run, 2 on the first retry, and so on. */
  int attempt();

  /** How many times the task has been retried: {@code attempt() - 1}. */
  default int retries() {
    return attempt() - 1;
  }

  /** The message headers (including {@code requestId} when the caller set one). */
  Map<String, String> headers();

  /** The caller's request id, or null. */
  String requestId();

  /** The name of the worker running the task. */
  String workerName();

  /**
   * Records progress: the task goes to state PROGRESS with {@code meta} (any JSON-encodable value),
   * readable through {@code AsyncResult.progress()}. Writes are coalesced to at most one per 100
   * ms; the latest meta is always kept in the final status.
   *
   * @throws dev.errand.InvalidMessageException if {@code meta} nests deeper than {@code
   *     Wire.MAX_NESTING_DEPTH} levels
   * @throws dev.errand.MessageTooLargeException if it encodes to more than the worker's {@code
   *     maxResultBytes}
   * @throws IllegalArgumentException if it cannot be encoded as JSON
   */
  void progress(Object meta);

  /** Records progress as {@code {"current": current, "total": total}}. */
  void progress(long current, long total);

  /**
   * Asks for another attempt after {@code countdown} (or the policy's backoff if null), counting
   * against the retry limit. If no retries are left the task fails with {@code cause}. Always
   * throws; declared to return so that callers can write {@code throw ctx.retry(...)}.
   */
  RetryException retry(Throwable cause, Duration countdown);

  /** {@link #retry(Throwable, Duration)} with the policy's backoff. */
  default RetryException retry(Throwable cause) {
    return retry(cause, null);
  }

  /**
   * Whether the task should stop: its soft time limit passed, it was revoked, or the worker is
   * shutting down past its grace period. The handler's thread is also interrupted.
   */
  boolean isCancelled();

  /**
   * Throws {@link dev.errand.SoftTimeLimitExceeded} if the soft time limit passed, or a {@link
   * java.util.concurrent.CancellationException} if the task was revoked; otherwise returns.
   */
  void checkCancelled();

  /**
   * Claims {@code key} for {@link #DEFAULT_ONCE_TTL}: returns true the first time any attempt of
   * any task asks, false afterwards. Guard an effect that must not happen twice (charge a card,
   * send a mail) when a task may run again after a crash. Claim, then act: if the effect then
   * fails, a retry will skip it, so prefer this for effects you would rather skip than repeat.
   */
  default boolean once(String key) {
    return once(key, DEFAULT_ONCE_TTL);
  }

  /** {@link #once(String)} with an explicit time to live. */
  boolean once(String key, Duration ttl);

  /** A client on the same backend, to enqueue follow-up tasks. */
  Client client();

  /** The worker's clock. */
  Clock clock();
}
