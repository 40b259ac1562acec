package dev.errand.worker.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.DeadLetterReason;
import dev.errand.EventType;
import dev.errand.InvalidMessageException;
import dev.errand.MessageTooLargeException;
import dev.errand.SoftTimeLimitExceeded;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.TimeLimitExceeded;
import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import dev.errand.wire.Arguments;
import dev.errand.wire.CallHistory;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import dev.errand.worker.RetryException;
import dev.errand.worker.TaskHandler;
import dev.errand.worker.TaskInterceptor;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerListener;
import dev.errand.workflow.Workflows;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs tasks: decodes and checks deliveries, calls handlers through the interceptor chain, and
 * records outcomes. The one code path shared by the worker and eager mode. Thread-safe.
 */
public final class TaskRunner {

  private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);

  /**
   * Settings of a runner.
   *
   * @param workerName recorded with states and events
   * @param maxDeliveries deliveries without outcome before dead-lettering
   * @param resultExpires how long states are kept
   * @param maxResultBytes largest encoded result (and progress meta)
   * @param maxMessageBytes largest message body accepted; larger ones are dead-lettered
   */
  public record Config(
      String workerName,
      int maxDeliveries,
      Duration resultExpires,
      int maxResultBytes,
      int maxMessageBytes) {}

  private final Backend backend;
  private final ChordResults chordResults;
  private final TaskRegistry registry;
  private final Config config;
  private final Clock clock;
  private final WorkerListener listener;
  private final List<TaskInterceptor> interceptors;
  private final RandomGenerator random;
  private final Client client;
  private final Outcomes outcomes;

  public TaskRunner(
      Backend backend,
      TaskRegistry registry,
      Config config,
      Clock clock,
      WorkerListener listener,
      List<TaskInterceptor> interceptors,
      EventSink events,
      RandomGenerator random,
      Client client,
      OutcomeWriter writer,
      BackendHealth health) {
    this.backend = backend;
    this.chordResults = new ChordResults(backend);
    this.registry = registry;
    this.config = config;
    this.clock = clock;
    this.listener = listener;
    this.interceptors = List.copyOf(interceptors);
    this.random = random;
    this.client = client;
    this.outcomes =
        new Outcomes(
            backend.broker(),
            health,
            clock,
            events,
            listener,
            config.workerName(),
            writer,
            new FlowOutcomes(new StepsCache(backend.workflows())));
  }

  /**
   * Decodes and checks freshly claimed deliveries and records them RECEIVED in one batch.
   * Deliveries that cannot run (poison, revoked, expired) are dealt with here and left out.
   */
  public List<Attempt> receive(List<Delivery> deliveries) {
    return receive(deliveries, Attempt.Hooks.NONE);
  }

  /**
   * Like {@link #receive(List)}, with the worker's bookkeeping for the attempts returned: {@code
   * hooks} are told when each stops holding a place of the worker's capacity and when the writer is
   * done with it.
   */
  List<Attempt> receive(List<Delivery> deliveries, Attempt.Hooks hooks) {
    List<Attempt> ready = new ArrayList<>(deliveries.size());
    Set<String> ids = new HashSet<>();
    for (Delivery d : deliveries) {
      ids.add(d.id());
    }
    Set<String> revoked = ids.isEmpty() ? Set.of() : backend.results().revoked(ids);
    List<Attempt> received = new ArrayList<>(deliveries.size());
    Instant now = clock.instant();
    for (Delivery d : deliveries) {
      Attempt a;
      try {
        a = receiveOne(d, revoked.contains(d.id()), now, hooks);
      } catch (RuntimeException ex) {
        // Nothing in receiveOne talks to the backend: whatever it throws, this message will throw
        // again on every delivery, so it is poison now rather than a crash loop later.
        outcomes.poison(
            d, null, DeadLetterReason.UNDECODABLE, TaskError.of("InvalidMessage", ex.toString()));
        continue;
      }
      if (a != null) {
        ready.add(a);
        if (!a.ignoreResult) {
          received.add(a);
        }
      }
    }
    outcomes.statuses(received);
    for (Attempt a : ready) {
      outcomes.event(EventType.TASK_RECEIVED, a.id(), a.name(), a.delivery.queue(), null);
    }
    return ready;
  }

  private Attempt receiveOne(Delivery d, boolean revoked, Instant now, Attempt.Hooks hooks) {
    int limit = config.maxMessageBytes();
    if (d.body().length > limit) {
      outcomes.poison(
          d,
          null,
          DeadLetterReason.UNDECODABLE,
          TaskError.of(
              "MessageTooLarge",
              "message of "
                  + d.body().length
                  + " bytes exceeds this worker's limit of "
                  + limit
                  + " bytes (WorkerOptions.maxMessageBytes)"));
      return null;
    }
    TaskMessage m;
    try {
      m = d.decoded() != null ? d.decoded() : Wire.decodeMessage(d.body());
    } catch (InvalidMessageException ex) {
      outcomes.poison(
          d, null, DeadLetterReason.UNDECODABLE, TaskError.of("InvalidMessage", ex.getMessage()));
      return null;
    }
    if (d.deliveries() > config.maxDeliveries()) {
      outcomes.poison(
          d,
          m,
          DeadLetterReason.TOO_MANY_DELIVERIES,
          TaskError.of(
              "TooManyDeliveries",
              "delivered "
                  + d.deliveries()
                  + " times without an outcome (limit "
                  + config.maxDeliveries()
                  + "): the task may be crashing or stalling its worker"));
      return null;
    }
    Optional<TaskRegistry.Registration<?, ?>> reg =
        MapTask.isMap(m, registry) ? MapTask.registration(m, registry) : registry.find(m.task());
    if (reg.isEmpty() && MapTask.isMap(m, registry)) {
      outcomes.poison(
          d,
          m,
          DeadLetterReason.UNKNOWN_TASK,
          TaskError.of(
              "UnknownTask",
              Workflows.MAP_TASK
                  + " maps task '"
                  + MapTask.target(m)
                  + "', which has no handler on worker "
                  + config.workerName()
                  + " (registered: "
                  + registry.names()
                  + ")"));
      return null;
    }
    if (reg.isEmpty()) {
      outcomes.poison(
          d,
          m,
          DeadLetterReason.UNKNOWN_TASK,
          TaskError.of(
              "UnknownTask",
              "no handler for task '"
                  + m.task()
                  + "' on worker "
                  + config.workerName()
                  + " (registered: "
                  + registry.names()
                  + ")"));
      return null;
    }
    TaskOptions options = reg.get().task().options().overriddenBy(m.options().toTaskOptions());
    TaskStatus status =
        new TaskStatus(
                m.id(),
                m.task(),
                TaskState.RECEIVED,
                d.queue(),
                null,
                null,
                null,
                null,
                m.retries() + 1,
                config.workerName(),
                m.sentAt(),
                null,
                null,
                null,
                now)
            .withCall(CallHistory.parent(m), CallHistory.arguments(m), CallHistory.retries(m));
    String ended =
        revoked ? "revoked" : m.expires() != null && now.isAfter(m.expires()) ? "expired" : null;
    if (ended != null) {
      // Never queued: none of the worker's bookkeeping applies to it.
      Attempt a =
          new Attempt(d, m, reg.get(), options, status, config.workerName(), Attempt.Hooks.NONE);
      a.settle();
      outcomes.revoked(a, ended);
      return null;
    }
    return new Attempt(d, m, reg.get(), options, status, config.workerName(), hooks);
  }

  /**
   * Runs the handler on the calling thread (a slot's, or the caller's in eager mode) and records
   * the outcome, unless the timer (hard time limit) or the shutdown took the attempt meanwhile.
   */
  public void run(Attempt a) {
    TaskMessage m = a.message;
    Instant startedAt = clock.instant();
    if (!a.start(new DefaultTaskContext(a, this, clock, client), startedAt, System.nanoTime())) {
      return; // handed back by the shutdown before it started
    }
    putMdc(m);
    try {
      if (a.cancelled(Attempt.Cancellation.REVOKED)) {
        if (a.settle()) {
          outcomes.revoked(a, "revoked");
        }
        return;
      }
      if (m.expires() != null && startedAt.isAfter(m.expires())) {
        // Received in time, but waited in the prefetch past its deadline: it must not start now.
        if (a.settle()) {
          outcomes.revoked(a, "expired");
        }
        return;
      }
      if (!a.acksLate) {
        outcomes.ackNow(a.delivery);
        a.acked();
      }
      a.status =
          a.status
              .withAttempt(m.retries() + 1, config.workerName(), startedAt)
              .withState(TaskState.STARTED, startedAt);
      if (!a.ignoreResult) {
        outcomes.status(a, a.status);
      }
      outcomes.event(EventType.TASK_STARTED, a.id(), a.name(), a.delivery.queue(), null);
      Outcomes.safely(() -> listener.taskStarted(a.context()));

      TaskMessage call = m;
      if (m.flow() != null && m.flow().chordOf() != null) {
        ChordResults.Bound bound = chordResults.bind(m);
        if (bound.failure() != null) {
          if (a.settle()) {
            outcomes.chordFailed(a, bound.failure(), a.runtime());
          }
          return;
        }
        call = bound.message();
      }
      Object argument;
      try {
        argument = Arguments.bind(call, a.registration.task().argType());
      } catch (InvalidMessageException ex) {
        if (a.settle()) {
          outcomes.failed(a, DeadLetterReason.INVALID_ARGUMENTS, TaskError.of(ex), a.runtime());
        }
        return;
      }
      Object result = null;
      Throwable error = null;
      try {
        result = new Chain(a, argument, 0).proceed();
      } catch (Throwable t) {
        error = t;
      } finally {
        Thread.interrupted(); // an interrupt meant for this task must not leak to the next
      }
      if (!a.settle()) {
        log.warn(
            "task {} [{}] finished after {}; its outcome was already recorded and this one is"
                + " discarded",
            a.name(),
            a.id(),
            a.state() == Attempt.State.HANDED_BACK
                ? "the shutdown handed it back"
                : "its hard time limit");
        return;
      }
      settle(a, result, error);
    } catch (RuntimeException storeFailure) {
      log.error(
          "could not record the outcome of task {} [{}]; it will be delivered again after its"
              + " lease",
          a.name(),
          a.id(),
          storeFailure);
    } finally {
      clearMdc();
    }
  }

  private void settle(Attempt a, Object result, Throwable error) {
    Duration runtime = a.runtime();
    JsonNode progress = a.context().latestProgress();
    if (a.cancelled(Attempt.Cancellation.REVOKED)) {
      outcomes.revoked(a, "revoked");
      return;
    }
    if (a.cancelled(Attempt.Cancellation.SHUTDOWN) && error != null) {
      // Interrupted by a shutdown past its grace period: not the task's fault, so it goes back.
      outcomes.handBack(a);
      return;
    }
    if (error == null) {
      JsonNode json;
      try {
        json = Arguments.encodeResult(result);
        checkStorable(json, "result", a);
      } catch (RuntimeException | JsonProcessingException ex) {
        log.error("task {} [{}] returned a result that cannot be stored", a.name(), a.id(), ex);
        outcomes.failed(a, DeadLetterReason.FAILED, TaskError.of(ex), runtime);
        return;
      }
      log.debug("task {} [{}] succeeded in {} ms", a.name(), a.id(), runtime.toMillis());
      outcomes.succeeded(a, json, progress, runtime);
      return;
    }
    failedAttempt(a, error, runtime);
  }

  private void failedAttempt(Attempt a, Throwable error, Duration runtime) {
    failedAttempt(a, error, runtime, null);
  }

  /**
   * Records a failed attempt as a retry or a failure, per the policy. A retry of an attempt whose
   * thread is {@code stuck} (still running past its hard time limit) is held back until that thread
   * ends, so two attempts of one task never run at once.
   */
  private void failedAttempt(Attempt a, Throwable error, Duration runtime, Thread stuck) {
    Throwable cause = error;
    Duration countdown = null;
    boolean requested = false;
    if (error instanceof RetryException re) {
      requested = true;
      countdown = re.countdown();
      cause = re.getCause() != null ? re.getCause() : re;
    }
    if (a.cancelled(Attempt.Cancellation.SOFT_LIMIT) && isInterruption(cause)) {
      cause =
          new SoftTimeLimitExceeded(
              a.id(), a.name(), "soft time limit of " + a.options.softTimeLimit() + " exceeded");
    }
    TaskError taskError = TaskError.of(cause);
    int retries = a.message.retries();
    boolean retry =
        a.retryPolicy.hasRetriesLeft(retries) && (requested || a.retryPolicy.retries(cause));
    if (retry) {
      Duration delay = countdown != null ? countdown : a.retryPolicy.delay(retries, random);
      log.warn(
          "task {} [{}] attempt {} failed, retry in {} ms: {}",
          a.name(),
          a.id(),
          retries + 1,
          delay.toMillis(),
          taskError);
      if (stuck != null && stuck.isAlive()) {
        outcomes.retryWhenGone(a, taskError, delay, runtime);
      } else {
        outcomes.retried(a, taskError, delay, runtime);
      }
    } else {
      log.error("task {} [{}] failed: {}", a.name(), a.id(), taskError, cause);
      outcomes.failed(a, DeadLetterReason.FAILED, taskError, runtime);
    }
  }

  /**
   * Records the outcome of a task whose hard time limit passed while its handler still runs, and
   * interrupts its thread, which is abandoned. Called by the worker's timer.
   *
   * @return true if this call took the attempt (the caller then gives its slot to a new thread)
   */
  boolean timeOut(Attempt a) {
    if (!a.abandon()) {
      return false;
    }
    Thread stuck = a.thread();
    stuck.interrupt();
    putMdc(a.message);
    try {
      log.error(
          "task {} [{}] exceeded its hard time limit of {}; its thread {} is abandoned",
          a.name(),
          a.id(),
          a.options.hardTimeLimit(),
          stuck.getName());
      TimeLimitExceeded error =
          new TimeLimitExceeded(
              a.id(), a.name(), "hard time limit of " + a.options.hardTimeLimit() + " exceeded");
      failedAttempt(a, error, a.runtime(), stuck);
      Outcomes.safely(() -> listener.threadAbandoned(a.context(), stuck));
    } catch (RuntimeException storeFailure) {
      log.error("could not record the hard time limit of task [{}]", a.id(), storeFailure);
    } finally {
      clearMdc();
    }
    return true;
  }

  /**
   * Checks that a value the task produced (its result, its progress meta) can be stored: at most
   * {@link Wire#MAX_NESTING_DEPTH} levels deep and {@code maxResultBytes} encoded.
   *
   * @throws dev.errand.InvalidMessageException if it nests too deeply
   * @throws MessageTooLargeException if it is too large
   */
  void checkStorable(JsonNode value, String what, Attempt a) throws JsonProcessingException {
    Wire.checkDepth(value, what, a.id(), a.name());
    int size = Wire.mapper().writeValueAsBytes(value).length;
    if (size > config.maxResultBytes()) {
      throw new MessageTooLargeException(what, a.id(), a.name(), size, config.maxResultBytes());
    }
  }

  /** Records the current progress meta (state PROGRESS). */
  void recordProgress(Attempt a, JsonNode meta) {
    if (a.isSettled()) {
      return;
    }
    Instant now = clock.instant();
    if (!a.ignoreResult) {
      a.status = a.status.withProgress(meta).withState(TaskState.PROGRESS, now);
      outcomes.status(a, a.status);
    }
    ObjectNode data = Wire.mapper().createObjectNode();
    data.set("meta", meta);
    outcomes.event(EventType.TASK_PROGRESS, a.id(), a.name(), a.delivery.queue(), data);
  }

  /**
   * Simulates a crash: from now on nothing is written and no delivery is ended, so every held
   * message stays leased until its lease expires. For tests.
   */
  public void halt() {
    outcomes.halt();
  }

  /**
   * Hands a running message back to its queue at once (shutdown), unless its outcome was claimed
   * already.
   *
   * @return false if its outcome was claimed already
   */
  boolean handBack(Attempt a) {
    if (!a.handBack()) {
      return false;
    }
    outcomes.handBack(a);
    return true;
  }

  /**
   * Sends the retry held back for {@code a} now that the thread of its previous attempt has ended,
   * at its planned time or at once if that has passed; once only.
   */
  void releaseHeldRetry(Attempt a) {
    if (!a.releaseHeld()) {
      return;
    }
    Attempt.HeldRetry held = a.heldRetry();
    Duration delay = Duration.between(clock.instant(), held.eta());
    log.info(
        "the stuck thread of task {} [{}] has ended; its retry is scheduled", a.name(), a.id());
    outcomes.retried(a, held.error(), delay.isNegative() ? Duration.ZERO : delay, held.runtime());
  }

  /** The retry held back for {@code a}, for whoever finishes it after this process is gone. */
  dev.errand.worker.HeldRetry heldRetry(Attempt a) {
    return outcomes.heldRetry(a);
  }

  /** Hands a prefetched message back to its queue (not started). */
  void release(Attempt a) {
    if (a.handBack()) {
      outcomes.release(a);
    }
  }

  /** Hands a claimed message back to its queue (not received). */
  public void release(Delivery d) {
    outcomes.release(d);
  }

  boolean claimOnce(String key, Duration ttl) {
    return backend.results().claimOnce(key, ttl);
  }

  private static boolean isInterruption(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof InterruptedException
          || c instanceof java.nio.channels.ClosedByInterruptException
          || c instanceof java.io.InterruptedIOException) {
        return true;
      }
    }
    return false;
  }

  private static void putMdc(TaskMessage m) {
    MDC.put(Worker.MDC_TASK_ID, m.id());
    MDC.put(Worker.MDC_TASK_NAME, m.task());
    if (m.requestId() != null) {
      MDC.put(Worker.MDC_REQUEST_ID, m.requestId());
    }
  }

  private static void clearMdc() {
    MDC.remove(Worker.MDC_TASK_ID);
    MDC.remove(Worker.MDC_TASK_NAME);
    MDC.remove(Worker.MDC_REQUEST_ID);
  }

  private final class Chain implements TaskInterceptor.Chain {
    private final Attempt a;
    private final Object argument;
    private final int index;

    Chain(Attempt a, Object argument, int index) {
      this.a = a;
      this.argument = argument;
      this.index = index;
    }

    @Override
    public DefaultTaskContext context() {
      return a.context();
    }

    @Override
    public Object argument() {
      return argument;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Object proceed() throws Exception {
      if (index < interceptors.size()) {
        return interceptors.get(index).intercept(new Chain(a, argument, index + 1));
      }
      TaskHandler handler = a.registration.handler();
      return handler.handle(argument, a.context());
    }
  }
}
