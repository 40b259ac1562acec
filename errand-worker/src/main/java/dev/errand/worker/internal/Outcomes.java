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

  /**
   * Stores a status of attempt {@code a} that ends nothing (RECEIVED, STARTED, PROGRESS, a held
   * RETRY), after what is pending, while its lease is current.
   */
  void status(Attempt a, TaskStatus status) {
    submit(Write.status(status, a.holdsDelivery() ? a.delivery : null));
  }

  /**
   * Ends attempt {@code a} with {@code w}: its outcome is handed over (the slot is free), and the
   * worker keeps its lease until the writer is done with it.
   */
  private void end(Attempt a, Write w) {
    a.handedOver();
    submit(w.thenDone(a::written));
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
  void release(Attempt a) {
    end(a, new Write(releasing(a.delivery), null, null, null));
  }

  /** Returns a message not started to its queue at once (shutdown, prefetched). */
  void release(Delivery delivery) {
    submit(new Write(releasing(delivery), null, null, null));
  }

  private static Settlement releasing(Delivery d) {
    return new Settlement(d, Settlement.Ending.RELEASE, null, List.of(), List.of(), null);
  }

  /**
   * The settlement of attempt {@code a}: it ends the delivery with {@code ending} if the worker
   * still holds it; a task that acked early holds nothing, so {@code resend} (if any) is sent as a
   * new message with the same id instead. {@code flow} adds what the outcome does to the task's
   * workflow.
   */
  private static Settlement settlement(
      Attempt a,
      Settlement.Ending ending,
      NewMessage resend,
      DeadLetter deadLetter,
      TaskStatus status,
      FlowOutcomes.Effects flow) {
    return a.holdsDelivery()
        ? settlementOf(a.delivery, ending, null, deadLetter, status, flow)
        : settlementOf(null, null, resend, deadLetter, status, flow);
  }

  /**
   * The settlement ending {@code d} with {@code ending} (both null when the delivery is gone), with
   * {@code resend} (if any) sent before the workflow's follow-ups.
   */
  private static Settlement settlementOf(
      Delivery d,
      Settlement.Ending ending,
      NewMessage resend,
      DeadLetter deadLetter,
      TaskStatus status,
      FlowOutcomes.Effects flow) {
    return new Settlement(
        d,
        ending,
        deadLetter,
        prepend(status, flow.statuses()),
        prepend(resend, flow.followUps()),
        flow.part());
  }

  /** {@code first} (unless null) then {@code rest}; no copy in the common case of a plain task. */
  private static <T> List<T> prepend(T first, List<T> rest) {
    if (rest.isEmpty()) {
      return first == null ? List.of() : List.of(first);
    }
    if (first == null) {
      return rest;
    }
    List<T> all = new ArrayList<>(1 + rest.size());
    all.add(first);
    all.addAll(rest);
    return all;
  }

  /** Returns a message to its queue: a shutdown interrupted it through no fault of its own. */
  void handBack(Attempt a) {
    log.warn("task {} [{}] was interrupted by the shutdown and handed back", a.name(), a.id());
    // Acked early, the delivery is gone: it is sent again as it was.
    NewMessage resend =
        a.message
            .options()
            .applyLimitTo(
                new NewMessage(
                    a.id(),
                    a.delivery.queue(),
                    a.message.priority(),
                    a.delivery.body(),
                    null,
                    null,
                    null));
    end(
        a,
        new Write(
            settlement(a, Settlement.Ending.RELEASE, resend, null, null, FlowOutcomes.Effects.NONE),
            null,
            null,
            null));
  }

  void succeeded(Attempt a, JsonNode result, JsonNode progress, Duration runtime) {
    TaskStatus status =
        a.ignoreResult && !FlowOutcomes.resultNeeded(a.message)
            ? null
            : a.status
                .withResult(result)
                .withProgress(progress)
                .withError(null)
                .withState(TaskState.SUCCESS, clock.instant());
    end(
        a,
        new Write(
            settlement(
                a,
                Settlement.Ending.ACK,
                null,
                null,
                status,
                flows.succeeded(a.message, result, clock.instant())),
            () -> {
              a.outcome = TaskState.SUCCESS;
              ObjectNode data = Wire.mapper().createObjectNode();
              data.put("runtimeMs", runtime.toMillis());
              event(EventType.TASK_SUCCEEDED, a.id(), a.name(), a.delivery.queue(), data);
              safely(() -> listener.taskSucceeded(a.context(), runtime));
            },
            null,
            unstorable(a)));
  }

  void retried(Attempt a, TaskError error, Duration delay, Duration runtime) {
    Instant now = clock.instant();
    Instant eta = now.plus(delay);
    TaskMessage next = CallHistory.forRetry(a.message, eta, error, now);
    byte[] body = Wire.encodeMessage(next);
    TaskStatus status =
        a.ignoreResult
            ? null
            : a.status.withError(error).withRetryAt(eta).withState(TaskState.RETRY, now);
    // Acked early, the delivery is gone: the retry is a new message with the same id.
    NewMessage resend =
        a.message
            .options()
            .applyLimitTo(
                new NewMessage(
                    a.id(), a.delivery.queue(), a.message.priority(), body, eta, null, null));
    end(
        a,
        new Write(
            settlement(
                a,
                new Settlement.Ending.Retry(body, eta),
                resend,
                null,
                status,
                FlowOutcomes.Effects.NONE),
            () -> {
              a.outcome = TaskState.RETRY;
              ObjectNode data = Wire.mapper().createObjectNode();
              data.put("error", error.toString());
              data.put("eta", eta.toString());
              data.put("retries", next.retries());
              event(EventType.TASK_RETRIED, a.id(), a.name(), a.delivery.queue(), data);
              safely(() -> listener.taskRetried(a.context(), error, delay, runtime));
            },
            null,
            unstorable(a)));
  }

  /**
   * A retry whose previous attempt still runs on a thread stuck past its hard time limit: RETRY is
   * stored at once (callers see it), but the message stays leased to this worker until the thread
   * ends ({@link TaskRunner#releaseHeldRetry}) or this process is gone ({@link #heldRetry}).
   */
  void retryWhenGone(Attempt a, TaskError error, Duration delay, Duration runtime) {
    Instant now = clock.instant();
    Instant eta = now.plus(delay);
    log.warn(
        "the retry of task {} [{}] waits until its stuck thread ends or this process is recycled",
        a.name(),
        a.id());
    a.hold(new Attempt.HeldRetry(error, eta, runtime));
    if (!a.ignoreResult) {
      status(a, a.status.withError(error).withRetryAt(eta).withState(TaskState.RETRY, now));
    }
  }

  /** The held retry of {@code a} as something another process can send once this one is gone. */
  dev.errand.worker.HeldRetry heldRetry(Attempt a) {
    Attempt.HeldRetry held = a.heldRetry();
    Instant now = clock.instant();
    Instant eta = held.eta().isBefore(now) ? now : held.eta();
    byte[] body = Wire.encodeMessage(CallHistory.forRetry(a.message, eta, held.error(), now));
    return new dev.errand.worker.HeldRetry(
        a.holdsDelivery() ? a.delivery : null,
        a.id(),
        a.delivery.queue(),
        a.message.priority(),
        body,
        eta);
  }

  void failed(Attempt a, DeadLetterReason reason, TaskError error, Duration runtime) {
    Instant now = clock.instant();
    DeadLetter dl = deadLetter(a.delivery, a.message, reason, error, a.message.retries() + 1);
    TaskStatus status =
        a.status.withError(error).withRetryAt(null).withState(TaskState.FAILURE, now);
    end(
        a,
        new Write(
            settlement(
                a,
                Settlement.Ending.ACK,
                null,
                dl,
                status,
                flows.failed(a.message, status, TaskState.FAILURE, now)),
            () -> failedEvents(a, dl, runtime),
            null,
            unstorable(a)));
  }

  /**
   * A chord's callback that cannot run: a member failed (under {@link dev.errand.ChordPolicy#FAIL})
   * or the results are gone. FAILURE with the reason, no dead letter (the failed members have
   * theirs), and its workflow stops as after any failure.
   */
  void chordFailed(Attempt a, TaskError error, Duration runtime) {
    Instant now = clock.instant();
    TaskStatus status =
        a.status.withError(error).withRetryAt(null).withState(TaskState.FAILURE, now);
    log.warn("chord callback {} [{}] does not run: {}", a.name(), a.id(), error.message());
    end(
        a,
        new Write(
            settlement(
                a,
                Settlement.Ending.ACK,
                null,
                null,
                status,
                flows.failed(a.message, status, TaskState.FAILURE, now)),
            () -> {
              a.outcome = TaskState.FAILURE;
              ObjectNode data = Wire.mapper().createObjectNode();
              data.put("error", error.toString());
              data.put("runtimeMs", runtime.toMillis());
              event(EventType.TASK_FAILED, a.id(), a.name(), a.delivery.queue(), data);
              safely(() -> listener.taskFailed(a.context(), error, runtime));
            },
            null,
            unstorable(a)));
  }

  private void failedEvents(Attempt a, DeadLetter dl, Duration runtime) {
    if (a != null) {
      a.outcome = TaskState.FAILURE;
    }
    deadLettered(dl);
    ObjectNode data = Wire.mapper().createObjectNode();
    data.put("error", dl.error().toString());
    data.put("reason", dl.reason().name());
    if (runtime != null) {
      data.put("runtimeMs", runtime.toMillis());
    }
    event(EventType.TASK_FAILED, dl.id(), dl.taskName(), dl.queue(), data);
    if (a != null && a.context() != null) {
      safely(() -> listener.taskFailed(a.context(), dl.error(), runtime));
    }
  }

  void revoked(Attempt a, String reason) {
    TaskStatus status = a.status.withReason(reason).withState(TaskState.REVOKED, clock.instant());
    end(
        a,
        new Write(
            settlement(
                a,
                Settlement.Ending.ACK,
                null,
                null,
                status,
                flows.failed(a.message, status, TaskState.REVOKED, clock.instant())),
            () -> {
              a.outcome = TaskState.REVOKED;
              revokedEvents(a.delivery, status, reason);
            },
            null,
            unstorable(a)));
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
            settlementOf(
                d,
                Settlement.Ending.ACK,
                null,
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

  /** The replacement of an outcome of {@code a} that cannot be stored. */
  private Function<Throwable, Write> unstorable(Attempt a) {
    return cause ->
        unstorableWrite(a.delivery, a.message, a.status.attempt(), a, a.holdsDelivery(), cause);
  }

  /**
   * FAILURE and a dead letter with reason {@link DeadLetterReason#UNSTORABLE} that leave out every
   * value the task produced or was given (they may be what cannot be stored); the dead letter keeps
   * the message's body, so it can be re-driven once the cause is fixed.
   */
  private Write unstorableWrite(
      Delivery d, TaskMessage m, int attempt, Attempt a, boolean ack, Throwable cause) {
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
        settlementOf(
            ack ? d : null,
            ack ? Settlement.Ending.ACK : null,
            null,
            dl,
            status,
            flows.failed(m, status, TaskState.FAILURE, now));
    return new Write(settlement, () -> failedEvents(a, dl, null), null, null);
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

  /** The statuses of attempts, stored after what is pending (RECEIVED of a claimed batch). */
  void statuses(List<Attempt> attempts) {
    for (Attempt a : attempts) {
      status(a, a.status);
    }
  }
}
