package dev.errand;

import java.time.Duration;
import java.util.Optional;

/**
 * Thrown when waiting for a result took longer than the given timeout; the task goes on.
 *
 * <p>When no live worker consumed the task's queue at that moment, the message says so and {@link
 * #unconsumedQueue()} names the queue: the usual reason a task "never runs" is that it was sent to
 * a queue no worker reads (a task defined with queue {@code email}, a worker started on {@code
 * default} only), and its message then waits in silence.
 */
public final class ResultTimeoutException extends ErrandException {
  private static final long serialVersionUID = 1L;

  private final TaskState lastState;
  private final String unconsumedQueue;

  /** Waited {@code timeout} for task {@code taskId}, last seen in {@code lastState}. */
  public ResultTimeoutException(String taskId, Duration timeout, TaskState lastState) {
    this(taskId, timeout, lastState, null, null);
  }

  /**
   * Waited {@code timeout} for task {@code taskId}, last seen in {@code lastState}, whose queue
   * {@code unconsumedQueue} no live worker consumed.
   *
   * @param unconsumedQueue the task's queue if no live worker consumed it, else null
   * @param detail what the live workers did instead, for people (e.g. {@code live workers consume
   *     [default]}); may be null
   */
  public ResultTimeoutException(
      String taskId, Duration timeout, TaskState lastState, String unconsumedQueue, String detail) {
    super(message(taskId, timeout, lastState, unconsumedQueue, detail), taskId, null, null);
    this.lastState = lastState;
    this.unconsumedQueue = unconsumedQueue;
  }

  private static String message(
      String taskId, Duration timeout, TaskState lastState, String queue, String detail) {
    String base = "task [" + taskId + "] not ready after " + timeout + " (state " + lastState + ")";
    if (queue == null) {
      return base;
    }
    return base
        + ": no live worker consumes its queue '"
        + queue
        + "'"
        + (detail == null ? "" : " (" + detail + ")")
        + "; start a worker on that queue, or send the task to a queue a worker consumes";
  }

  /** The state the task was in when the wait gave up. */
  public TaskState lastState() {
    return lastState;
  }

  /**
   * The task's queue, when no live worker consumed it as the wait gave up (a worker that reports it
   * is not consuming does not count); empty when one did, or the queue is not known (a handle made
   * by {@link Client#result(String)} for a task with no stored status yet).
   */
  public Optional<String> unconsumedQueue() {
    return Optional.ofNullable(unconsumedQueue);
  }
}
