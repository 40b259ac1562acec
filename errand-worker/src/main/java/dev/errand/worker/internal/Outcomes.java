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
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.wire.CallHistory;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import dev.errand.worker.WorkerListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the writes that record what happened to a task — its state, its dead letter, and how its
 * delivery ends — and hands them to the {@link OutcomeWriter}, the one place they are stored, in
 * order: the state first, then the broker operation that ends the delivery. A crash in between
 * repeats the task; it never loses it. Events and listener calls follow once a write is stored.
 * Nothing here waits for the backend, so no thread of the worker is held up by a slow one.
 */
final class Outcomes {

  private static final Logger log = LoggerFactory.getLogger(Outcomes.class);

  private final Broker broker;
  private final BackendHealth health;
  private final Clock clock;
  private final EventSink events;
  private final WorkerListener listener;
  private final String workerName;
  private final OutcomeWriter writer;
  private final FlowOutcomes flows;
  private volatile boolean halted;

  Outcomes(
      Broker broker,
      BackendHealth health,
      Clock clock,
      EventSink events,
      WorkerListener listener,
      String workerName,
      OutcomeWriter writer,
      FlowOutcomes flows) {
    this.broker = broker;
    this.health = health;
    this.writer = writer;
    this.clock = clock;
    this.events = events;
    this.listener = listener;
    this.workerName = workerName;
    this.flows = flows;
  }

  void halt() {
    halted = true;
  }

  private void submit(Write w) {
    if (halted) {
      throw new IllegalStateException("worker halted");
    }
    writer.submit(w);
  }

  /** Stores a status that ends nothing (RECEIVED, STARTED, PROGRESS), after what is pending. */
  void status(TaskStatus status) {
    submit(Write.status(status));
  }

  /**
   * Ends the settled attempt {@code e} with {@code w}: the engine counts it as pending till then.
   */
  private void end(Execution e, Write w) {
    e.submitted();
    submit(w.thenDone(e::written));
  }

  void event(EventType type, String taskId, String taskName, String queue, JsonNode data) {
    events.emit(new Event(0, type, clock.instant(), taskId, taskName, workerName, queue, data));
  }

  /**
   * Acks at once, before the handler runs (a task that acks early). Synchronous: the task must not
   * start before its message is gone.
   */
  void ackNow(Delivery delivery) {
    if (halted) {
      throw new IllegalStateException("worker halted");
    }
    if (!broker.ack(delivery)) {
      log.warn("lease of task [{}] was lost before its early ack", delivery.id());
    }
    health.answered();
  }

  /** Returns a prefetched message, not started, to its queue at once (shutdown). */
  void release(Execution e) {
    end(e, new Write(releasing(e.delivery), null, null, null));
  }

  /** Returns a message not started to its queue at once (shutdown, prefetched). */
  void release(Delivery delivery) {
    submit(new Write(releasing(delivery), null, null, null));
  }

  private static Settlement releasing(Delivery d) {
    return new Settlement(d, Settlement.Ending.RELEASE, null, List.of(), List.of(), null);
  }

  /**
   * The settlement of attempt {@code e}: it ends the delivery with {@code ending} if the worker
   * still holds it; a task that acked early holds nothing, so {@code resend} (if any) is sent as a
   * new message with the same id instead. {@code flow} adds what the outcome does to the task's
   * workflow.
   */
  private static Settlement settlement(
      Execution e,
      Settlement.Ending ending,
      NewMessage resend,
      DeadLetter deadLetter,
      TaskStatus status,
      FlowOutcomes.Effects flow) {
    List<TaskStatus> statuses = new ArrayList<>(1 + flow.statuses().size());
    if (status != null) {
      statuses.add(status);
    }
    statuses.addAll(flow.statuses());
    List<NewMessage> followUps = new ArrayList<>(1 + flow.followUps().size());
    if (e.holdsDelivery()) {
      followUps.addAll(flow.followUps());
      return new Settlement(e.delivery, ending, deadLetter, statuses, followUps, flow.part());
    }
    if (resend != null) {
      followUps.add(resend);
    }
    followUps.addAll(flow.followUps());
    return new Settlement(null, null, deadLetter, statuses, followUps, flow.part());
  }

  /** Returns a message to its queue: a shutdown interrupted it through no fault of its own. */
  void handBack(Execution e) {
    log.warn("task {} [{}] was interrupted by the shutdown and handed back", e.name(), e.id());
    // Acked early, the delivery is gone: it is sent again as it was.
    NewMessage resend =
        new NewMessage(
            e.id(), e.delivery.queue(), e.message.priority(), e.delivery.body(), null, null, null);
    end(
        e,
        new Write(
            settlement(e, Settlement.Ending.RELEASE, resend, null, null, FlowOutcomes.Effects.NONE),
            null,
            null,
            null));
  }

  void succeeded(Execution e, JsonNode result, JsonNode progress, Duration runtime) {
    TaskStatus status =
        e.ignoreResult && !FlowOutcomes.resultNeeded(e.message)
            ? null
            : e.status
                .withResult(result)
                .withProgress(progress)
                .withError(null)
                .withState(TaskState.SUCCESS, clock.instant());
    end(
        e,
        new Write(
            settlement(
                e,
                Settlement.Ending.ACK,
                null,
                null,
                status,
                flows.succeeded(e.message, result, clock.instant())),
            () -> {
              e.outcome = TaskState.SUCCESS;
              ObjectNode data = Wire.mapper().createObjectNode();
              data.put("runtimeMs", runtime.toMillis());
              event(EventType.TASK_SUCCEEDED, e.id(), e.name(), e.delivery.queue(), data);
              safely(() -> listener.taskSucceeded(e.context, runtime));
            },
            null,
            unstorable(e)));
  }

  void retried(Execution e, TaskError error, Duration delay, Duration runtime) {
    Instant now = clock.instant();
    Instant eta = now.plus(delay);
    TaskMessage next = CallHistory.forRetry(e.message, eta, error, now);
    byte[] body = Wire.encodeMessage(next);
    TaskStatus status =
        e.ignoreResult
            ? null
            : e.status.withError(error).withRetryAt(eta).withState(TaskState.RETRY, now);
    // Acked early, the delivery is gone: the retry is a new message with the same id.
    NewMessage resend =
        new NewMessage(e.id(), e.delivery.queue(), e.message.priority(), body, eta, null, null);
    end(
        e,
        new Write(
            settlement(
                e,
                new Settlement.Ending.Retry(body, eta),
                resend,
                null,
                status,
                FlowOutcomes.Effects.NONE),
            () -> {
              e.outcome = TaskState.RETRY;
              ObjectNode data = Wire.mapper().createObjectNode();
              data.put("error", error.toString());
              data.put("eta", eta.toString());
              data.put("retries", next.retries());
              event(EventType.TASK_RETRIED, e.id(), e.name(), e.delivery.queue(), data);
              safely(() -> listener.taskRetried(e.context, error, delay, runtime));
            },
            null,
            unstorable(e)));
  }

  /**
   * A retry whose previous attempt still runs on a thread stuck past its hard time limit: RETRY is
   * stored at once (callers see it), but the message stays leased to this worker until the thread
   * ends ({@link TaskRunner#releaseHeldRetry}) or this process is gone ({@link #heldRetry}).
   */
  void retryWhenGone(Execution e, TaskError error, Duration delay, Duration runtime) {
    Instant now = clock.instant();
    Instant eta = now.plus(delay);
    log.warn(
        "the retry of task {} [{}] waits until its stuck thread ends or this process is recycled",
        e.name(),
        e.id());
    e.heldRetry = new Execution.HeldRetry(error, eta, runtime);
    if (!e.ignoreResult) {
      status(e.status.withError(error).withRetryAt(eta).withState(TaskState.RETRY, now));
    }
    e.submitted(); // the slot goes to a new thread; the lease stays until the retry is sent
  }

  /** The held retry of {@code e} as something another process can send once this one is gone. */
  dev.errand.worker.HeldRetry heldRetry(Execution e) {
    Execution.HeldRetry held = e.heldRetry;
    Instant now = clock.instant();
    Instant eta = held.eta().isBefore(now) ? now : held.eta();
    byte[] body = Wire.encodeMessage(CallHistory.forRetry(e.message, eta, held.error(), now));
    return new dev.errand.worker.HeldRetry(
        e.holdsDelivery() ? e.delivery : null,
        e.id(),
        e.delivery.queue(),
        e.message.priority(),
        body,
        eta);
  }

  void failed(Execution e, DeadLetterReason reason, TaskError error, Duration runtime) {
    Instant now = clock.instant();
    DeadLetter dl = deadLetter(e.delivery, e.message, reason, error, e.message.retries() + 1);
    TaskStatus status =
        e.status.withError(error).withRetryAt(null).withState(TaskState.FAILURE, now);
    end(
        e,
        new Write(
            settlement(
                e,
                Settlement.Ending.ACK,
                null,
                dl,
                status,
                flows.failed(e.message, status, TaskState.FAILURE, now)),
            () -> failedEvents(e, dl, runtime),
            null,
            unstorable(e)));
  }

  /**
   * A chord's callback that cannot run: a member failed (under {@link dev.errand.ChordPolicy#FAIL})
   * or the results are gone. FAILURE with the reason, no dead letter (the failed members have
   * theirs), and its workflow stops as after any failure.
   */
  void chordFailed(Execution e, TaskError error, Duration runtime) {
    Instant now = clock.instant();
    TaskStatus status =
        e.status.withError(error).withRetryAt(null).withState(TaskState.FAILURE, now);
    log.warn("chord callback {} [{}] does not run: {}", e.name(), e.id(), error.message());
    end(
        e,
        new Write(
            settlement(
                e,
                Settlement.Ending.ACK,
                null,
                null,
                status,
                flows.failed(e.message, status, TaskState.FAILURE, now)),
            () -> {
              e.outcome = TaskState.FAILURE;
              ObjectNode data = Wire.mapper().createObjectNode();
              data.put("error", error.toString());
              data.put("runtimeMs", runtime.toMillis());
              event(EventType.TASK_FAILED, e.id(), e.name(), e.delivery.queue(), data);
              safely(() -> listener.taskFailed(e.context, error, runtime));
            },
            null,
            unstorable(e)));
  }

  private void failedEvents(Execution e, DeadLetter dl, Duration runtime) {
    if (e != null) {
      e.outcome = TaskState.FAILURE;
    }
    deadLettered(dl);
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("error", dl.error().toString());
    data.put("reason", dl.reason().name());
    if (runtime != null) {
      data.put("runtimeMs", runtime.toMillis());
    }
    event(EventType.TASK_FAILED, dl.id(), dl.taskName(), dl.queue(), data);
    if (e != null && e.context != null) {
      safely(() -> listener.taskFailed(e.context, dl.error(), runtime));
    }
  }

  void revoked(Execution e, String reason) {
    TaskStatus status = e.status.withReason(reason).withState(TaskState.REVOKED, clock.instant());
    end(
        e,
        new Write(
            settlement(
                e,
                Settlement.Ending.ACK,
                null,
                null,
                status,
                flows.failed(e.message, status, TaskState.REVOKED, clock.instant())),
            () -> {
              e.outcome = TaskState.REVOKED;
              revokedEvents(e.delivery, status, reason);
            },
            null,
            unstorable(e)));
  }

  private void revokedEvents(Delivery delivery, TaskStatus status, String reason) {
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
    Instant now = clock.instant();
    log.error(
        "message [{}] from queue {} goes to the dead letters ({}): {}",
        d.id(),
        d.queue(),
        reason,
        error);
    DeadLetter dl = deadLetter(d, m, reason, error, m == null ? d.deliveries() : m.retries() + 1);
    TaskStatus status = bareFailure(d, m, error, now);
    submit(
        new Write(
            settle(
                d,
                true,
                dl,
                status,
                m == null
                    ? FlowOutcomes.Effects.NONE
                    : flows.failed(m, status, TaskState.FAILURE, now)),
            () -> failedEvents(null, dl, null),
            null,
            m == null
                ? null
                : cause -> unstorableWrite(d, m, status.attempt(), null, true, cause)));
  }

  /** A FAILURE that acks {@code d} (if {@code ack}), with a dead letter and the flow's effects. */
  private Settlement settle(
      Delivery d, boolean ack, DeadLetter dl, TaskStatus status, FlowOutcomes.Effects flow) {
    List<TaskStatus> statuses = new ArrayList<>(1 + flow.statuses().size());
    statuses.add(status);
    statuses.addAll(flow.statuses());
    return ack
        ? new Settlement(d, Settlement.Ending.ACK, dl, statuses, flow.followUps(), flow.part())
        : new Settlement(null, null, dl, statuses, flow.followUps(), flow.part());
  }

  /** The replacement of an outcome of {@code e} that cannot be stored. */
  private Function<Throwable, Write> unstorable(Execution e) {
    return cause ->
        unstorableWrite(e.delivery, e.message, e.status.attempt(), e, e.holdsDelivery(), cause);
  }

  /**
   * FAILURE and a dead letter with reason {@link DeadLetterReason#UNSTORABLE} that leave out every
   * value the task produced or was given (they may be what cannot be stored); the dead letter keeps
   * the message's body, so it can be re-driven once the cause is fixed.
   */
  private Write unstorableWrite(
      Delivery d, TaskMessage m, int attempt, Execution e, boolean ack, Throwable cause) {
    Instant now = clock.instant();
    TaskError error =
        TaskError.of(
            "OutcomeNotStored",
            "the outcome of this attempt could not be stored, so the task ends here: " + cause);
    DeadLetter dl =
        new DeadLetter(
            d.id(),
            m.task(),
            d.queue(),
            DeadLetterReason.UNSTORABLE,
            error,
            null,
            null,
            Wire.bodyText(d.body()),
            attempt,
            m.sentAt(),
            now);
    TaskStatus status = bareFailure(d, m, error, now);
    Settlement settlement =
        settle(d, ack, dl, status, flows.failed(m, status, TaskState.FAILURE, now));
    return new Write(settlement, () -> failedEvents(e, dl, null), null, null);
  }

  /** A FAILURE status that carries nothing but the error: no arguments, result or progress. */
  private TaskStatus bareFailure(Delivery d, TaskMessage m, TaskError error, Instant now) {
    return new TaskStatus(
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
  }

  private DeadLetter deadLetter(
      Delivery d, TaskMessage m, DeadLetterReason reason, TaskError error, int attempts) {
    return new DeadLetter(
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
  }

  private void deadLettered(DeadLetter dl) {
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("reason", dl.reason().name());
    event(EventType.TASK_DEAD_LETTERED, dl.id(), dl.taskName(), dl.queue(), data);
    safely(() -> listener.deadLettered(dl));
  }

  static void safely(Runnable listenerCall) {
    try {
      listenerCall.run();
    } catch (RuntimeException e) {
      log.warn("worker listener threw; ignored", e);
    }
  }

  /** Statuses stored as one batch after what is pending (RECEIVED of a claimed batch). */
  void statuses(List<TaskStatus> statuses) {
    for (TaskStatus s : statuses) {
      status(s);
    }
  }
}
