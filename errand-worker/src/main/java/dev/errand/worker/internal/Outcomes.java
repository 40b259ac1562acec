package dev.errand.worker.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.wire.CallHistory;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import dev.errand.worker.WorkerListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records outcomes in the order that keeps the at-least-once guarantee: first the state (and dead
 * letter), then the broker operation that ends the delivery. A crash in between repeats the task;
 * it never loses it.
 */
final class Outcomes {

  private static final Logger log = LoggerFactory.getLogger(Outcomes.class);

  private final Backend backend;
  private final Clock clock;
  private final EventSink events;
  private final WorkerListener listener;
  private final String workerName;
  private final Duration resultExpires;
  private final StatusWriter writer;
  private volatile boolean halted;

  Outcomes(
      Backend backend,
      Clock clock,
      EventSink events,
      WorkerListener listener,
      String workerName,
      Duration resultExpires,
      StatusWriter writer) {
    this.backend = backend;
    this.writer = writer;
    this.clock = clock;
    this.events = events;
    this.listener = listener;
    this.workerName = workerName;
    this.resultExpires = resultExpires;
  }

  void halt() {
    halted = true;
  }

  private void checkAlive() {
    if (halted) {
      throw new IllegalStateException("worker halted");
    }
  }

  void putStatus(TaskStatus status) {
    checkAlive();
    flushPending();
    backend.results().put(status, resultExpires);
  }

  /** Stores statuses through the batching writer, after what is already pending. */
  void putStatusesAsync(List<TaskStatus> statuses) {
    checkAlive();
    for (TaskStatus s : statuses) {
      writer.submit(new StatusWriter.Item(s, null, null));
    }
  }

  /** Stores a status through the batching writer, after what is already pending. */
  void putStatusAsync(TaskStatus status) {
    checkAlive();
    writer.submit(new StatusWriter.Item(status, null, null));
  }

  /** Waits for the writer, so a direct write never overtakes a pending one of the same task. */
  void flushPending() {
    try {
      writer.awaitFlushed();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  void event(EventType type, String taskId, String taskName, String queue, JsonNode data) {
    events.emit(new Event(0, type, clock.instant(), taskId, taskName, workerName, queue, data));
  }

  /** Ends a delivery for good. A stale receipt means another worker has the message now. */
  void ack(Delivery delivery) {
    checkAlive();
    if (!backend.broker().ack(delivery)) {
      log.warn(
          "lease of task [{}] was lost before its ack (it ran longer than its lease without"
              + " renewal); it may run again",
          delivery.id());
    }
  }

  /**
   * Returns a message to its queue at once: a shutdown interrupted it through no fault of its own.
   */
  void handBack(Execution e) {
    checkAlive();
    if (e.acked) {
      // Acked early, so the delivery is gone: send it again as it was.
      backend
          .broker()
          .enqueue(
              List.of(
                  new NewMessage(
                      e.id(),
                      e.delivery.queue(),
                      e.message.priority(),
                      e.delivery.body(),
                      null,
                      null,
                      null)));
    } else if (!backend.broker().release(e.delivery)) {
      log.warn("lease of task [{}] was lost before it could be handed back", e.id());
    }
    log.warn("task {} [{}] was interrupted by the shutdown and handed back", e.name(), e.id());
  }

  void succeeded(Execution e, JsonNode result, JsonNode progress, Duration runtime) {
    checkAlive();
    Instant now = clock.instant();
    TaskStatus status =
        e.ignoreResult
            ? null
            : e.status
                .withResult(result)
                .withProgress(progress)
                .withError(null)
                .withState(TaskState.SUCCESS, now);
    Delivery ack = e.acksLate && !e.acked ? e.delivery : null;
    e.completionPending = true;
    writer.submit(
        new StatusWriter.Item(
            status,
            ack,
            written -> {
              if (written) {
                ObjectNode data = Wire.mapper().createObjectNode();
                data.put("runtimeMs", runtime.toMillis());
                event(EventType.TASK_SUCCEEDED, e.id(), e.name(), e.delivery.queue(), data);
                safely(() -> listener.taskSucceeded(e.context, runtime));
              }
              e.onDone.run();
            }));
  }

  void retried(Execution e, TaskError error, Duration delay, Duration runtime) {
    checkAlive();
    Instant now = clock.instant();
    Instant eta = now.plus(delay);
    TaskMessage next = CallHistory.forRetry(e.message, eta, error, now);
    byte[] body = Wire.encodeMessage(next);
    if (!e.ignoreResult) {
      putStatus(e.status.withError(error).withRetryAt(eta).withState(TaskState.RETRY, now));
    }
    if (e.acksLate && !e.acked) {
      if (!backend.broker().retry(e.delivery, body, eta)) {
        log.warn("lease of task [{}] was lost before its retry was scheduled", e.id());
      }
    } else {
      // Acked early: the delivery is gone, so the retry is a new message with the same id.
      backend
          .broker()
          .enqueue(
              List.of(
                  new NewMessage(
                      e.id(), e.delivery.queue(), e.message.priority(), body, eta, null, null)));
    }
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("error", error.toString());
    data.put("eta", eta.toString());
    data.put("retries", next.retries());
    event(EventType.TASK_RETRIED, e.id(), e.name(), e.delivery.queue(), data);
    safely(() -> listener.taskRetried(e.context, error, delay, runtime));
  }

  void failed(Execution e, DeadLetterReason reason, TaskError error, Duration runtime) {
    checkAlive();
    Instant now = clock.instant();
    // Dead letter first: whoever sees FAILURE can rely on finding it.
    deadLetter(e.delivery, e.message, reason, error, e.message.retries() + 1);
    putStatus(e.status.withError(error).withRetryAt(null).withState(TaskState.FAILURE, now));
    if (e.acksLate && !e.acked) {
      ack(e.delivery);
    }
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("error", error.toString());
    data.put("reason", reason.name());
    if (runtime != null) {
      data.put("runtimeMs", runtime.toMillis());
    }
    event(EventType.TASK_FAILED, e.id(), e.name(), e.delivery.queue(), data);
    if (e.context != null) {
      safely(() -> listener.taskFailed(e.context, error, runtime));
    }
  }

  void revoked(Execution e, String reason) {
    revoked(e.delivery, e.status, reason, !e.acked);
  }

  void revoked(Delivery delivery, TaskStatus status, String reason, boolean ack) {
    putStatus(status.withReason(reason).withState(TaskState.REVOKED, clock.instant()));
    if (ack) {
      ack(delivery);
    }
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("reason", reason);
    event(EventType.TASK_REVOKED, status.id(), status.name(), delivery.queue(), data);
    safely(() -> listener.taskRevoked(status.id(), status.name(), reason));
  }

  /**
   * A message that cannot run at all (undecodable, unknown task, crash loop): FAILURE, dead letter,
   * ack. The worker goes on.
   */
  void poison(Delivery d, TaskMessage m, DeadLetterReason reason, TaskError error) {
    checkAlive();
    Instant now = clock.instant();
    log.error(
        "message [{}] from queue {} goes to the dead letters ({}): {}",
        d.id(),
        d.queue(),
        reason,
        error);
    TaskStatus status =
        new TaskStatus(
            d.id(),
            m == null ? null : m.task(),
            TaskState.FAILURE,
            d.queue(),
            null,
            error,
            null,
            null,
            m == null ? 0 : m.retries() + 1,
            workerName,
            m == null ? null : m.sentAt(),
            null,
            now,
            null,
            now);
    deadLetter(d, m, reason, error, m == null ? d.deliveries() : m.retries() + 1);
    putStatus(status);
    ack(d);
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("error", error.toString());
    data.put("reason", reason.name());
    event(EventType.TASK_FAILED, d.id(), m == null ? null : m.task(), d.queue(), data);
  }

  private void deadLetter(
      Delivery d, TaskMessage m, DeadLetterReason reason, TaskError error, int attempts) {
    DeadLetter dl =
        new DeadLetter(
            d.id(),
            m == null ? null : m.task(),
            d.queue(),
            reason,
            error,
            m == null ? null : m.args(),
            m == null ? null : m.kwargs(),
            Wire.bodyText(d.body()),
            attempts,
            m == null ? null : m.sentAt(),
            clock.instant());
    backend.deadLetters().add(dl);
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("reason", reason.name());
    event(EventType.TASK_DEAD_LETTERED, d.id(), dl.taskName(), d.queue(), data);
    safely(() -> listener.deadLettered(dl));
  }

  static void safely(Runnable listenerCall) {
    try {
      listenerCall.run();
    } catch (RuntimeException e) {
      log.warn("worker listener threw; ignored", e);
    }
  }
}
