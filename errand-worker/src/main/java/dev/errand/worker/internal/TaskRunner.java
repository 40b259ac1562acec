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
  public List<Execution> receive(List<Delivery> deliveries) {
    List<Execution> ready = new ArrayList<>(deliveries.size());
    Set<String> ids = new HashSet<>();
    for (Delivery d : deliveries) {
      ids.add(d.id());
    }
    Set<String> revoked = ids.isEmpty() ? Set.of() : backend.results().revoked(ids);
    List<TaskStatus> received = new ArrayList<>(deliveries.size());
    Instant now = clock.instant();
    for (Delivery d : deliveries) {
      Execution e;
      try {
        e = receiveOne(d, revoked.contains(d.id()), now);
      } catch (RuntimeException ex) {
        // Nothing in receiveOne talks to the backend: whatever it throws, this message will throw
        // again on every delivery, so it is poison now rather than a crash loop later.
        outcomes.poison(
            d, null, DeadLetterReason.UNDECODABLE, TaskError.of("InvalidMessage", ex.toString()));
        continue;
      }
      if (e != null) {
        ready.add(e);
        if (!e.ignoreResult) {
          received.add(e.status);
        }
      }
    }
    outcomes.statuses(received);
    for (Execution e : ready) {
      outcomes.event(EventType.TASK_RECEIVED, e.id(), e.name(), e.delivery.queue(), null);
    }
    return ready;
  }

  private Execution receiveOne(Delivery d, boolean revoked, Instant now) {
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
      m = Wire.decodeMessage(d.body());
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
    Execution e = new Execution(d, m, reg.get(), options, status, config.workerName());
    if (revoked) {
      outcomes.revoked(e, "revoked");
      return null;
    }
    if (m.expires() != null && now.isAfter(m.expires())) {
      outcomes.revoked(e, "expired");
      return null;
    }
    return e;
  }

  /**
   * Runs the handler on the calling thread and records the outcome, unless the execution was
   * settled meanwhile by its hard time limit.
   */
  public void run(Execution e) {
    TaskMessage m = e.message;
    e.context = new DefaultTaskContext(e, this, clock, client);
    e.thread = Thread.currentThread();
    e.startedAt = clock.instant();
    e.startedNanos = System.nanoTime();
    if (e.options.softTimeLimit() != null) {
      e.softDeadline = e.startedAt.plus(e.options.softTimeLimit());
    }
    if (e.options.hardTimeLimit() != null) {
      e.hardDeadline = e.startedAt.plus(e.options.hardTimeLimit());
    }
    putMdc(m);
    try {
      if (e.revoked) {
        if (e.settle()) {
          outcomes.revoked(e, "revoked");
        }
        return;
      }
      if (!e.acksLate) {
        outcomes.ackNow(e.delivery);
        e.acked = true;
      }
      e.status =
          e.status
              .withAttempt(m.retries() + 1, config.workerName(), e.startedAt)
              .withState(TaskState.STARTED, e.startedAt);
      if (!e.ignoreResult) {
        outcomes.status(e.status);
      }
      outcomes.event(EventType.TASK_STARTED, e.id(), e.name(), e.delivery.queue(), null);
      Outcomes.safely(() -> listener.taskStarted(e.context));

      TaskMessage call = m;
      if (m.flow() != null && m.flow().chordOf() != null) {
        ChordResults.Bound bound = chordResults.bind(m);
        if (bound.failure() != null) {
          if (e.settle()) {
            outcomes.chordFailed(e, bound.failure(), runtime(e));
          }
          return;
        }
        call = bound.message();
      }
      Object argument;
      try {
        argument = Arguments.bind(call, e.registration.task().argType());
      } catch (InvalidMessageException ex) {
        if (e.settle()) {
          outcomes.failed(e, DeadLetterReason.INVALID_ARGUMENTS, TaskError.of(ex), runtime(e));
        }
        return;
      }
      Object result = null;
      Throwable error = null;
      try {
        result = new Chain(e, argument, 0).proceed();
      } catch (Throwable t) {
        error = t;
      } finally {
        Thread.interrupted(); // an interrupt meant for this task must not leak to the next
      }
      if (!e.settle()) {
        log.warn(
            "task {} [{}] finished after its hard time limit; its outcome was already recorded"
                + " and this one is discarded",
            e.name(),
            e.id());
        return;
      }
      settle(e, result, error);
    } catch (RuntimeException storeFailure) {
      log.error(
          "could not record the outcome of task {} [{}]; it will be delivered again after its"
              + " lease",
          e.name(),
          e.id(),
          storeFailure);
    } finally {
      clearMdc();
    }
  }

  private void settle(Execution e, Object result, Throwable error) {
    Duration runtime = runtime(e);
    JsonNode progress = e.context.latestProgress();
    if (e.revoked) {
      outcomes.revoked(e, "revoked");
      return;
    }
    if (e.shuttingDown && error != null) {
      // Interrupted by a shutdown past its grace period: not the task's fault, so it goes back.
      outcomes.handBack(e);
      return;
    }
    if (error == null) {
      JsonNode json;
      try {
        json = Arguments.encodeResult(result);
        checkStorable(json, "result", e);
      } catch (RuntimeException | JsonProcessingException ex) {
        log.error("task {} [{}] returned a result that cannot be stored", e.name(), e.id(), ex);
        outcomes.failed(e, DeadLetterReason.FAILED, TaskError.of(ex), runtime);
        return;
      }
      log.debug("task {} [{}] succeeded in {} ms", e.name(), e.id(), runtime.toMillis());
      outcomes.succeeded(e, json, progress, runtime);
      return;
    }
    failedAttempt(e, error, runtime);
  }

  private void failedAttempt(Execution e, Throwable error, Duration runtime) {
    failedAttempt(e, error, runtime, null);
  }

  /**
   * Records a failed attempt as a retry or a failure, per the policy. A retry of an attempt whose
   * thread is {@code stuck} (still running past its hard time limit) is held back until that thread
   * ends, so two attempts of one task never run at once.
   */
  private void failedAttempt(Execution e, Throwable error, Duration runtime, Thread stuck) {
    Throwable cause = error;
    Duration countdown = null;
    boolean requested = false;
    if (error instanceof RetryException re) {
      requested = true;
      countdown = re.countdown();
      cause = re.getCause() != null ? re.getCause() : re;
    }
    if (e.softLimitHit && isInterruption(cause)) {
      cause =
          new SoftTimeLimitExceeded(
              e.id(), e.name(), "soft time limit of " + e.options.softTimeLimit() + " exceeded");
    }
    TaskError taskError = TaskError.of(cause);
    int retries = e.message.retries();
    boolean retry =
        e.retryPolicy.hasRetriesLeft(retries) && (requested || e.retryPolicy.retries(cause));
    if (retry) {
      Duration delay = countdown != null ? countdown : e.retryPolicy.delay(retries, random);
      log.warn(
          "task {} [{}] attempt {} failed, retry in {} ms: {}",
          e.name(),
          e.id(),
          retries + 1,
          delay.toMillis(),
          taskError);
      if (stuck != null && stuck.isAlive()) {
        outcomes.retryWhenGone(e, taskError, delay, runtime);
      } else {
        outcomes.retried(e, taskError, delay, runtime);
      }
    } else {
      log.error("task {} [{}] failed: {}", e.name(), e.id(), taskError, cause);
      outcomes.failed(e, DeadLetterReason.FAILED, taskError, runtime);
    }
  }

  /**
   * Records the outcome of a task whose hard time limit passed while its handler still runs, and
   * interrupts its thread. Called by the worker's timer.
   *
   * @return true if this call settled the task (the caller then frees its slot)
   */
  public boolean timeOut(Execution e) {
    if (!e.settle(Execution.Settler.TIMER)) {
      return false;
    }
    Thread stuck = e.thread;
    if (stuck != null) {
      stuck.interrupt();
    }
    putMdc(e.message);
    try {
      log.error(
          "task {} [{}] exceeded its hard time limit of {}; its thread {} is abandoned",
          e.name(),
          e.id(),
          e.options.hardTimeLimit(),
          stuck == null ? "?" : stuck.getName());
      TimeLimitExceeded error =
          new TimeLimitExceeded(
              e.id(), e.name(), "hard time limit of " + e.options.hardTimeLimit() + " exceeded");
      failedAttempt(e, error, runtime(e), stuck);
      if (stuck != null) {
        Outcomes.safely(() -> listener.threadAbandoned(e.context, stuck));
      }
    } catch (RuntimeException storeFailure) {
      log.error("could not record the hard time limit of task [{}]", e.id(), storeFailure);
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
  void checkStorable(JsonNode value, String what, Execution e) throws JsonProcessingException {
    Wire.checkDepth(value, what, e.id(), e.name());
    int size = Wire.mapper().writeValueAsBytes(value).length;
    if (size > config.maxResultBytes()) {
      throw new MessageTooLargeException(what, e.id(), e.name(), size, config.maxResultBytes());
    }
  }

  /** Records the current progress meta (state PROGRESS). */
  void recordProgress(Execution e, JsonNode meta) {
    if (e.isSettled()) {
      return;
    }
    Instant now = clock.instant();
    if (!e.ignoreResult) {
      e.status = e.status.withProgress(meta).withState(TaskState.PROGRESS, now);
      outcomes.status(e.status);
    }
    ObjectNode data = Wire.mapper().createObjectNode();
    data.set("meta", meta);
    outcomes.event(EventType.TASK_PROGRESS, e.id(), e.name(), e.delivery.queue(), data);
  }

  /**
   * Simulates a crash: from now on nothing is written and no delivery is ended, so every held
   * message stays leased until its lease expires. For tests.
   */
  public void halt() {
    outcomes.halt();
  }

  /**
   * Hands a message back to its queue at once (shutdown), for an execution nobody settled yet.
   *
   * @return false if it was already settled
   */
  public boolean handBack(Execution e) {
    if (!e.settle(Execution.Settler.TIMER)) {
      return false;
    }
    outcomes.handBack(e);
    return true;
  }

  /**
   * Sends the retry held back for {@code e} now that the thread of its previous attempt has ended,
   * at its planned time or at once if that has passed.
   */
  public void releaseHeldRetry(Execution e) {
    Execution.HeldRetry held = e.heldRetry;
    Duration delay = Duration.between(clock.instant(), held.eta());
    log.info(
        "the stuck thread of task {} [{}] has ended; its retry is scheduled", e.name(), e.id());
    outcomes.retried(e, held.error(), delay.isNegative() ? Duration.ZERO : delay, held.runtime());
  }

  /** The retry held back for {@code e}, for whoever finishes it after this process is gone. */
  public dev.errand.worker.HeldRetry heldRetry(Execution e) {
    return outcomes.heldRetry(e);
  }

  /** Hands a prefetched message back to its queue (not started). */
  public void release(Execution e) {
    outcomes.release(e);
  }

  /** Hands a claimed message back to its queue (not received). */
  public void release(Delivery d) {
    outcomes.release(d);
  }

  boolean claimOnce(String key, Duration ttl) {
    return backend.results().claimOnce(key, ttl);
  }

  private Duration runtime(Execution e) {
    return Duration.ofNanos(System.nanoTime() - e.startedNanos);
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
    private final Execution e;
    private final Object argument;
    private final int index;

    Chain(Execution e, Object argument, int index) {
      this.e = e;
      this.argument = argument;
      this.index = index;
    }

    @Override
    public DefaultTaskContext context() {
      return e.context;
    }

    @Override
    public Object argument() {
      return argument;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Object proceed() throws Exception {
      if (index < interceptors.size()) {
        return interceptors.get(index).intercept(new Chain(e, argument, index + 1));
      }
      TaskHandler handler = e.registration.handler();
      return handler.handle(argument, e.context);
    }
  }
}
