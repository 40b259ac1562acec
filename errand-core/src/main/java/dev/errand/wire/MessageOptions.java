package dev.errand.wire;

import dev.errand.RetryPolicy;
import dev.errand.TaskOptions;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.NewMessage;
import java.time.Duration;
import java.util.List;

/**
 * Execution options a producer set for one call; every field is optional and, when absent, the
 * worker uses its task definition's option or the default.
 *
 * @param retry the retry policy, or null
 * @param softTimeLimitMs the soft time limit in milliseconds, or null
 * @param hardTimeLimitMs the hard time limit in milliseconds, or null
 * @param ignoreResult whether no result is stored, or null
 * @param acksLate whether the message is acknowledged after the outcome, or null
 * @param limit the flow-control limit the client resolved for the message (task definition and
 *     call, key included), or null; kept so that a message sent again (a retry as a new message, a
 *     workflow's next step, a re-driven dead letter) is limited as the first was
 * @param uniqueKey the unique key the message was enqueued with, or null
 */
public record MessageOptions(
    RetrySpec retry,
    Long softTimeLimitMs,
    Long hardTimeLimitMs,
    Boolean ignoreResult,
    Boolean acksLate,
    FlowLimit limit,
    String uniqueKey) {

  /** No options set. */
  public static final MessageOptions NONE =
      new MessageOptions(null, null, null, null, null, null, null);

  /** The execution options set in {@code options}. */
  public static MessageOptions of(TaskOptions options) {
    MessageOptions m =
        new MessageOptions(
            options.retry() == null ? null : RetrySpec.of(options.retry()),
            millis(options.softTimeLimit()),
            millis(options.hardTimeLimit()),
            options.ignoreResult(),
            options.acksLate(),
            null,
            null);
    return m.equals(NONE) ? NONE : m;
  }

  /** These options with the message's flow control; the same instance when both are null. */
  public MessageOptions withFlowControl(FlowLimit limit, String uniqueKey) {
    if (limit == null && uniqueKey == null) {
      return this;
    }
    return new MessageOptions(
        retry, softTimeLimitMs, hardTimeLimitMs, ignoreResult, acksLate, limit, uniqueKey);
  }

  /**
   * {@code message} with the flow control these options carry: how a message is sent again with the
   * limit and unique key it was first sent with.
   */
  public NewMessage applyTo(NewMessage message) {
    return limit == null && uniqueKey == null ? message : message.withFlowControl(limit, uniqueKey);
  }

  /**
   * {@code message} under the limit these options carry, without the unique key: for a message
   * acked at receipt and sent again by its worker (a retry, a hand-back), which released its key
   * when it was acked and must not be dropped for a key another message took since.
   */
  public NewMessage applyLimitTo(NewMessage message) {
    return limit == null ? message : message.withFlowControl(limit, null);
  }

  /** These options as {@link TaskOptions} (only the execution options are set). */
  public TaskOptions toTaskOptions() {
    if (retry == null
        && softTimeLimitMs == null
        && hardTimeLimitMs == null
        && ignoreResult == null
        && acksLate == null) {
      return TaskOptions.none(); // the common case: nothing to merge on the hot path
    }
    TaskOptions.Builder b = TaskOptions.builder();
    if (retry != null) b.retry(retry.toPolicy());
    if (softTimeLimitMs != null) b.softTimeLimit(Duration.ofMillis(softTimeLimitMs));
    if (hardTimeLimitMs != null) b.hardTimeLimit(Duration.ofMillis(hardTimeLimitMs));
    if (ignoreResult != null) b.ignoreResult(ignoreResult);
    if (acksLate != null) b.acksLate(acksLate);
    return b.build();
  }

  private static Long millis(Duration d) {
    return d == null ? null : d.toMillis();
  }

  /**
   * A retry policy on the wire. Exception classes travel as names and are matched by name; none is
   * ever loaded.
   */
  public record RetrySpec(
      int maxRetries,
      long backoffMs,
      long backoffMaxMs,
      boolean jitter,
      List<String> retryOn,
      List<String> neverRetry) {

    /** The wire form of {@code policy}. */
    public static RetrySpec of(RetryPolicy policy) {
      return new RetrySpec(
          policy.maxRetries(),
          policy.backoff().toMillis(),
          policy.backoffMax().toMillis(),
          policy.jitter(),
          policy.retryOn().isEmpty() ? null : List.copyOf(policy.retryOn()),
          policy.neverRetry().isEmpty() ? null : List.copyOf(policy.neverRetry()));
    }

    /** The policy this describes. */
    public RetryPolicy toPolicy() {
      RetryPolicy.Builder b =
          RetryPolicy.builder()
              .maxRetries(maxRetries)
              .backoff(Duration.ofMillis(backoffMs))
              .backoffMax(Duration.ofMillis(backoffMaxMs))
              .jitter(jitter);
      if (retryOn != null) b.retryOnNames(retryOn);
      if (neverRetry != null) b.neverRetryNames(neverRetry);
      return b.build();
    }
  }
}
