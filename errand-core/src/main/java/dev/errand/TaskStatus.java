package dev.errand;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the result backend holds for one task: its state, result or error, latest progress and
 * timestamps. Immutable; derive changed copies with the {@code with*} methods.
 *
 * @param id the task id
 * @param name the task name, null if the message could not be decoded
 * @param state the current state
 * @param queue the queue it was delivered from, possibly null
 * @param result the JSON result on SUCCESS, otherwise null
 * @param error the error on FAILURE and RETRY, otherwise null
 * @param progress the latest meta reported with {@code ctx.progress(...)}, possibly null
 * @param reason why a task was REVOKED ({@code "revoked"}, {@code "expired"}), otherwise null
 * @param attempt the attempt number, 1 for the first run, 0 before any run
 * @param worker the name of the worker that last handled it, possibly null
 * @param sentAt when the producer sent it, possibly null
 * @param startedAt when the current attempt started, possibly null
 * @param finishedAt when it reached a ready state, null until then
 * @param retryAt when the next attempt is due, in state RETRY, otherwise null
 * @param updatedAt when this record was written
 * @param parentId the id of the task that sent this one from its handler, or null
 * @param args the call's arguments as {@code {"args": [...], "kwargs": {...}}}, or null when not
 *     recorded (statuses written before a worker received the task)
 * @param retries the earlier attempts that ended in a retry, oldest first, at most {@value
 *     #MAX_RETRIES_KEPT}; null when there were none
 */
public record TaskStatus(
    String id,
    String name,
    TaskState state,
    String queue,
    JsonNode result,
    TaskError error,
    JsonNode progress,
    String reason,
    int attempt,
    String worker,
    Instant sentAt,
    Instant startedAt,
    Instant finishedAt,
    Instant retryAt,
    Instant updatedAt,
    String parentId,
    JsonNode args,
    List<Retry> retries) {

  /** The most earlier attempts kept in {@link #retries()}: {@value}. */
  public static final int MAX_RETRIES_KEPT = 10;

  public TaskStatus {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(state, "state");
    retries = retries == null || retries.isEmpty() ? null : List.copyOf(retries);
  }

  /** A status without parent, arguments or retry history. */
  public TaskStatus(
      String id,
      String name,
      TaskState state,
      String queue,
      JsonNode result,
      TaskError error,
      JsonNode progress,
      String reason,
      int attempt,
      String worker,
      Instant sentAt,
      Instant startedAt,
      Instant finishedAt,
      Instant retryAt,
      Instant updatedAt) {
    this(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        null,
        null,
        null);
  }

  /**
   * An earlier attempt that ended in a retry.
   *
   * @param attempt its number, 1 for the first run
   * @param at when it ended
   * @param error why it failed
   */
  public record Retry(int attempt, Instant at, TaskError error) {
    public Retry {
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(error, "error");
    }
  }

  /** The status of a task nothing is known about. */
  public static TaskStatus pending(String id) {
    return new TaskStatus(
        id,
        null,
        TaskState.PENDING,
        null,
        null,
        null,
        null,
        null,
        0,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /** A copy in {@code state}, written at {@code now}. */
  public TaskStatus withState(TaskState state, Instant now) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        state.isReady() ? now : finishedAt,
        retryAt,
        now,
        parentId,
        args,
        retries);
  }

  /** A copy with the given result. */
  public TaskStatus withResult(JsonNode result) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }

  /** A copy with the given error. */
  public TaskStatus withError(TaskError error) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }

  /** A copy with the given progress meta. */
  public TaskStatus withProgress(JsonNode progress) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }

  /** A copy with the given revocation reason. */
  public TaskStatus withReason(String reason) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }

  /** A copy with the given retry time. */
  public TaskStatus withRetryAt(Instant retryAt) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }

  /** A copy for a new attempt started at {@code startedAt} by {@code worker}. */
  public TaskStatus withAttempt(int attempt, String worker, Instant startedAt) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }

  /** A copy with the call's parent, arguments and earlier attempts (see the fields). */
  public TaskStatus withCall(String parentId, JsonNode args, List<Retry> retries) {
    return new TaskStatus(
        id,
        name,
        state,
        queue,
        result,
        error,
        progress,
        reason,
        attempt,
        worker,
        sentAt,
        startedAt,
        finishedAt,
        retryAt,
        updatedAt,
        parentId,
        args,
        retries);
  }
}
