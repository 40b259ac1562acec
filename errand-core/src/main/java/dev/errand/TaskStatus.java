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

  /**
   * The status of a task not received yet whose name (and queue, if known) its sender knows: a step
   * of a workflow that was never sent, for instance.
   *
   * @param queue its queue, or null
   * @param now when this status is written
   */
  public static TaskStatus pending(String id, String name, String queue, java.time.Instant now) {
    return new TaskStatus(
        id,
        name,
        TaskState.PENDING,
        queue,
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
        now);
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
    Copy c = new Copy(this);
    c.state = state;
    c.finishedAt = state.isReady() ? now : finishedAt;
    c.updatedAt = now;
    return c.build();
  }

  /** A copy with the given result. */
  public TaskStatus withResult(JsonNode result) {
    Copy c = new Copy(this);
    c.result = result;
    return c.build();
  }

  /** A copy with the given error. */
  public TaskStatus withError(TaskError error) {
    Copy c = new Copy(this);
    c.error = error;
    return c.build();
  }

  /** A copy with the given progress meta. */
  public TaskStatus withProgress(JsonNode progress) {
    Copy c = new Copy(this);
    c.progress = progress;
    return c.build();
  }

  /** A copy with the given revocation reason. */
  public TaskStatus withReason(String reason) {
    Copy c = new Copy(this);
    c.reason = reason;
    return c.build();
  }

  /** A copy with the given retry time. */
  public TaskStatus withRetryAt(Instant retryAt) {
    Copy c = new Copy(this);
    c.retryAt = retryAt;
    return c.build();
  }

  /** A copy for a new attempt started at {@code startedAt} by {@code worker}. */
  public TaskStatus withAttempt(int attempt, String worker, Instant startedAt) {
    Copy c = new Copy(this);
    c.attempt = attempt;
    c.worker = worker;
    c.startedAt = startedAt;
    return c.build();
  }

  /** A copy with the call's parent, arguments and earlier attempts (see the fields). */
  public TaskStatus withCall(String parentId, JsonNode args, List<Retry> retries) {
    Copy c = new Copy(this);
    c.parentId = parentId;
    c.args = args;
    c.retries = retries;
    return c.build();
  }

  /** The fields of a status, to change a few and build the copy: one place lists them all. */
  private static final class Copy {
    private final String id;
    private final String name;
    private TaskState state;
    private final String queue;
    private JsonNode result;
    private TaskError error;
    private JsonNode progress;
    private String reason;
    private int attempt;
    private String worker;
    private final Instant sentAt;
    private Instant startedAt;
    private Instant finishedAt;
    private Instant retryAt;
    private Instant updatedAt;
    private String parentId;
    private JsonNode args;
    private List<Retry> retries;

    Copy(TaskStatus s) {
      id = s.id;
      name = s.name;
      state = s.state;
      queue = s.queue;
      result = s.result;
      error = s.error;
      progress = s.progress;
      reason = s.reason;
      attempt = s.attempt;
      worker = s.worker;
      sentAt = s.sentAt;
      startedAt = s.startedAt;
      finishedAt = s.finishedAt;
      retryAt = s.retryAt;
      updatedAt = s.updatedAt;
      parentId = s.parentId;
      args = s.args;
      retries = s.retries;
    }

    TaskStatus build() {
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
}
