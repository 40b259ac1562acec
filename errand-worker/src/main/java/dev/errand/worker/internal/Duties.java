package dev.errand.worker.internal;

import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import dev.errand.worker.WorkerOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's periodic duties, each on a thread of its own so that none is late because of another
 * (in the manner of db-scheduler's executors):
 *
 * <ul>
 *   <li>the timer, every {@link #TICK}: time limits (past the soft one the handler is interrupted;
 *       past the hard one its outcome is recorded and its thread abandoned), retries held for stuck
 *       threads that have ended since, revocations (every {@link #REVOCATION_CHECK}) and lease
 *       renewal (every {@link WorkerOptions#leaseRenewInterval()}), all decided on the worker's
 *       clock; the tick only decides how often they are checked;
 *   <li>heartbeats, every {@link WorkerOptions#heartbeatInterval()}, so a timer stuck in a backend
 *       call is reported;
 *   <li>events, published every {@link #EVENT_FLUSH}, so publishing never holds up lease renewal on
 *       a busy store.
 * </ul>
 *
 * <p>It also announces the worker: online when it starts, offline (and out of the registry) when it
 * stops. Thread-safe: {@link #start}, {@link #stop} and {@link #halt} are called by the {@link
 * WorkerLifecycle}, each once; the duties themselves run on their own threads.
 */
final class Duties {

  private static final Logger log = LoggerFactory.getLogger(Duties.class);

  /** How often the timer checks deadlines, leases and revocations (real time). */
  static final Duration TICK = Duration.ofMillis(25);

  /** How often buffered events are published. */
  static final Duration EVENT_FLUSH = Duration.ofMillis(50);

  /** Heartbeats go to the registry every interval, but to the event log at most this often. */
  static final Duration HEARTBEAT_EVENT_INTERVAL = Duration.ofMinutes(1);

  /** How often running and prefetched tasks are checked for revocation. */
  static final Duration REVOCATION_CHECK = Duration.ofSeconds(1);

  private final Backend backend;
  private final TaskRunner runner;
  private final WorkerOptions options;
  private final String name;
  private final Clock clock;
  private final Attempts attempts;
  private final BackendHealth health;
  private final WorkerHealth stalls;
  private final EventSink events;
  private final Supplier<WorkerInfo> report;
  private final BooleanSupplier running;
  private final BooleanSupplier halted;
  private final Consumer<Attempt> abandoned;
  private final ScheduledExecutorService timer = single("errand-timer");
  private final ScheduledExecutorService heartbeats = single("errand-heartbeat");
  private final ScheduledExecutorService eventFlusher = single("errand-events");
  private volatile Instant startedAt;
  private volatile Instant lastRenew;
  private volatile Instant lastRevocationCheck;
  private volatile Instant lastHeartbeatEvent;

  /**
   * @param report what a heartbeat reports now
   * @param running whether the worker runs (started, not stopping): heartbeat events only then
   * @param halted whether the worker was halted (a simulated crash): no duty does anything more
   * @param abandoned told of an attempt the timer took at its hard time limit (its thread is
   *     abandoned: the slots give its place to a new one)
   */
  Duties(
      Backend backend,
      TaskRunner runner,
      WorkerOptions options,
      String name,
      Clock clock,
      Attempts attempts,
      BackendHealth health,
      WorkerHealth stalls,
      EventSink events,
      Supplier<WorkerInfo> report,
      BooleanSupplier running,
      BooleanSupplier halted,
      Consumer<Attempt> abandoned) {
    this.backend = backend;
    this.runner = runner;
    this.options = options;
    this.name = name;
    this.clock = clock;
    this.attempts = attempts;
    this.health = health;
    this.stalls = stalls;
    this.events = events;
    this.report = report;
    this.running = running;
    this.halted = halted;
    this.abandoned = abandoned;
  }

  private static ScheduledExecutorService single(String threadName) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, threadName);
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Sends the first heartbeat, announces the worker online and schedules the duties, counting their
   * intervals from {@code startedAt}. Call once the fetcher runs: the first heartbeat must not
   * report "not consuming".
   */
  void start(Instant startedAt) {
    this.startedAt = startedAt;
    this.lastRenew = startedAt;
    this.lastRevocationCheck = startedAt;
    heartbeat();
    emit(EventType.WORKER_ONLINE);
    timer.scheduleWithFixedDelay(
        this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    eventFlusher.scheduleWithFixedDelay(
        events::flush, EVENT_FLUSH.toMillis(), EVENT_FLUSH.toMillis(), TimeUnit.MILLISECONDS);
    long beat = options.heartbeatInterval().toMillis();
    heartbeats.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
  }

  /**
   * Stops the duties (waiting up to 5 s for each to finish its turn), announces the worker offline
   * and takes it out of the registry.
   */
  void stop() throws InterruptedException {
    timer.shutdown();
    heartbeats.shutdown();
    eventFlusher.shutdown();
    timer.awaitTermination(5, TimeUnit.SECONDS);
    heartbeats.awaitTermination(5, TimeUnit.SECONDS);
    eventFlusher.awaitTermination(5, TimeUnit.SECONDS);
    emit(EventType.WORKER_OFFLINE);
    events.flush();
    try {
      backend.workers().remove(name);
    } catch (RuntimeException e) {
      log.warn("could not deregister worker {}: {}", name, e.toString());
    }
  }

  /** Stops the duties at once, announcing nothing (a halt). */
  void halt() {
    timer.shutdownNow();
    heartbeats.shutdownNow();
    eventFlusher.shutdownNow();
  }

  /** One tick of the timer; never throws, so the timer is never cancelled. */
  private void tick() {
    if (halted.getAsBoolean()) {
      return;
    }
    stalls.ticked();
    try {
      Instant now = clock.instant();
      enforceTimeLimits(now);
      releaseHeldRetries();
      if (!now.isBefore(lastRevocationCheck.plus(REVOCATION_CHECK))) {
        lastRevocationCheck = now;
        checkRevocations();
      }
      if (!now.isBefore(lastRenew.plus(options.leaseRenewInterval()))) {
        lastRenew = now;
        renewLeases();
      }
    } catch (Throwable t) {
      // Never let an exception cancel the timer: leases would stop being renewed.
      log.error("worker timer failed; continuing", t);
    }
  }

  private void enforceTimeLimits(Instant now) {
    for (Attempt a : attempts.running()) {
      if (!a.isRunning()) {
        continue;
      }
      Instant hard = a.hardDeadline();
      if (hard != null && !now.isBefore(hard)) {
        if (runner.timeOut(a)) {
          abandoned.accept(a);
        }
        continue;
      }
      Instant soft = a.softDeadline();
      if (soft != null && !a.cancelled(Attempt.Cancellation.SOFT_LIMIT) && !now.isBefore(soft)) {
        log.warn("task {} [{}] passed its soft time limit; interrupting it", a.name(), a.id());
        a.cancel(Attempt.Cancellation.SOFT_LIMIT);
      }
    }
  }

  /** Sends the retries held back for stuck threads that have ended since. */
  private void releaseHeldRetries() {
    for (Attempt a : attempts.running()) {
      if (a.state() == Attempt.State.HELD && !a.thread().isAlive()) {
        runner.releaseHeldRetry(a);
      }
    }
  }

  private void renewLeases() {
    // Attempts whose outcome is still being written keep their lease until it is stored.
    List<Attempt> held = attempts.held();
    if (held.isEmpty()) {
      return;
    }
    List<Delivery> deliveries = new ArrayList<>(held.size());
    for (Attempt a : held) {
      deliveries.add(a.delivery());
    }
    Set<String> lost = backend.broker().renew(deliveries, options.leaseDuration());
    health.answered();
    for (Attempt a : held) {
      if (lost.contains(a.id())) {
        if (attempts.unprefetch(a)) {
          a.drop();
          log.warn(
              "lease of prefetched task [{}] was lost; dropped it (another worker has it)", a.id());
        } else if (!a.isSettled()) {
          log.warn("lease of running task {} [{}] was lost; it may run twice", a.name(), a.id());
        }
      }
    }
  }

  private void checkRevocations() {
    List<Attempt> held = attempts.held();
    if (held.isEmpty()) {
      return;
    }
    Map<String, Attempt> byId = new HashMap<>();
    for (Attempt a : held) {
      byId.put(a.id(), a);
    }
    for (String id : backend.results().revoked(byId.keySet())) {
      Attempt a = byId.get(id);
      if (!a.cancelled(Attempt.Cancellation.REVOKED) && !a.isSettled()) {
        log.info("task {} [{}] was revoked; stopping it", a.name(), id);
        a.cancel(Attempt.Cancellation.REVOKED);
      }
    }
  }

  /** Records this worker's report in the registry, and now and then a heartbeat event. */
  private void heartbeat() {
    if (halted.getAsBoolean()) {
      return;
    }
    Instant now = clock.instant();
    WorkerInfo info = report.get();
    if (!info.consuming()) {
      log.warn("worker {} is not consuming: {}", name, info.problem());
    }
    try {
      backend.workers().heartbeat(info, options.heartbeatInterval().multipliedBy(3));
      health.answered();
    } catch (RuntimeException e) {
      log.warn("could not record heartbeat: {}", e.toString());
    }
    if (lastHeartbeatEvent == null
        || !now.isBefore(lastHeartbeatEvent.plus(HEARTBEAT_EVENT_INTERVAL))) {
      lastHeartbeatEvent = now;
      if (running.getAsBoolean() && startedAt != null && now.isAfter(startedAt)) {
        emit(EventType.WORKER_HEARTBEAT);
      }
    }
  }

  private void emit(EventType type) {
    events.emit(new Event(0, type, clock.instant(), null, null, name, null, null));
  }
}
