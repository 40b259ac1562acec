package dev.errand.worker.internal;

import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.worker.WorkerListener;
import dev.errand.worker.WorkerOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's moving parts: a {@link Fetcher} that leases messages up to the free {@link
 * Capacity}, {@link Slots} whose threads run them, and a timer that enforces time limits, renews
 * leases, checks revocations and sends heartbeats. All time decisions use the injected clock; the
 * timer only decides how often they are checked.
 */
public final class WorkerEngine {

  private static final Logger log = LoggerFactory.getLogger(WorkerEngine.class);

  /** How often the timer checks deadlines, leases and heartbeats (real time). */
  static final Duration TICK = Duration.ofMillis(25);

  /** How often buffered events are published. */
  static final Duration EVENT_FLUSH = Duration.ofMillis(50);

  /** Heartbeats go to the registry every interval, but to the event log at most this often. */
  static final Duration HEARTBEAT_EVENT_INTERVAL = Duration.ofMinutes(1);

  private enum State {
    NEW,
    RUNNING,
    STOPPING,
    STOPPED
  }

  private final Backend backend;
  private final TaskRunner runner;
  private final WorkerOptions options;
  private final String name;
  private final Clock clock;
  private final WorkerListener listener;
  private final EventSink events;
  private final OutcomeWriter writer;
  private final BackendHealth health;
  private final Slots slots;
  private final WorkerInfoSource info;
  private final PeriodicDuties duties;
  private final WorkerHealth stalls;

  private final Capacity capacity;
  private final Attempts attempts;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final ScheduledExecutorService timer;
  private final ScheduledExecutorService heartbeats;
  private final ScheduledExecutorService eventFlusher;
  private final Fetcher fetcher;

  private volatile State state = State.NEW;
  private volatile boolean halted;
  private volatile Instant startedAt;
  private volatile Instant lastHeartbeatEvent;

  public WorkerEngine(
      Backend backend,
      TaskRunner runner,
      WorkerOptions options,
      String name,
      Clock clock,
      WorkerListener listener,
      EventSink events,
      OutcomeWriter writer,
      BackendHealth health) {
    this.backend = backend;
    this.writer = writer;
    this.health = health;
    this.runner = runner;
    this.options = options;
    this.name = name;
    this.clock = clock;
    this.listener = listener;
    this.events = events;
    this.capacity = new Capacity(options.concurrency() + options.prefetch());
    this.attempts = new Attempts(capacity);
    this.slots = new Slots(options, runner, attempts, () -> state == State.RUNNING, () -> halted);
    this.info = new WorkerInfoSource(name, options);
    this.timer = Executors.newSingleThreadScheduledExecutor(daemon("errand-timer"));
    // Heartbeats have a thread of their own, so a timer stuck in a backend call is reported.
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(daemon("errand-heartbeat"));
    // Events too: publishing them must never hold up lease renewal on a busy store.
    this.eventFlusher = Executors.newSingleThreadScheduledExecutor(daemon("errand-events"));
    this.stalls = new WorkerHealth(options, writer);
    this.duties =
        new PeriodicDuties(backend, runner, options, clock, attempts, health, slots::abandon);
    this.fetcher =
        new Fetcher(
            backend,
            runner,
            options,
            capacity,
            attempts,
            stalls,
            health,
            listener,
            () -> state == State.RUNNING,
            () -> halted);
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Starts the threads. */
  public synchronized void start() {
    if (state != State.NEW) {
      throw new IllegalStateException("worker " + name + " was already started");
    }
    state = State.RUNNING;
    startedAt = clock.instant();
    duties.start(startedAt);
    slots.start();
    fetcher.start();
    // After the fetcher starts: the first heartbeat must not report "not consuming".
    heartbeat();
    emit(EventType.WORKER_ONLINE);
    timer.scheduleWithFixedDelay(
        this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    eventFlusher.scheduleWithFixedDelay(
        events::flush, EVENT_FLUSH.toMillis(), EVENT_FLUSH.toMillis(), TimeUnit.MILLISECONDS);
    long beat = options.heartbeatInterval().toMillis();
    heartbeats.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
    log.info(
        "worker {} consuming {} with concurrency {} ({} pool, prefetch {}, lease {})",
        name,
        options.queues(),
        options.concurrency(),
        options.pool().label(),
        options.prefetch(),
        options.leaseDuration());
  }

  private void tick() {
    if (!halted) {
      stalls.ticked();
      duties.tick();
    }
  }

  /**
   * Whether the worker has taken {@link WorkerOptions#maxTasks()} messages and has none left to
   * start: it fetches no more.
   */
  public boolean taskLimitReached() {
    return fetcher.taskLimitReached();
  }

  /** Threads abandoned at their hard time limit that still run. */
  public int stuckThreads() {
    return slots.stuck();
  }

  /**
   * The retries held back for threads still stuck: after a shutdown, what this process could not
   * send itself because the previous attempts may still be running in it.
   */
  public List<dev.errand.worker.HeldRetry> heldRetries() {
    List<dev.errand.worker.HeldRetry> held = new ArrayList<>();
    for (Attempt a : attempts.withHeldRetries()) {
      held.add(runner.heldRetry(a));
    }
    return held;
  }

  private void heartbeat() {
    if (halted) {
      return;
    }
    Instant now = clock.instant();
    WorkerInfo report = snapshot();
    if (!report.consuming()) {
      log.warn("worker {} is not consuming: {}", name, report.problem());
    }
    try {
      backend.workers().heartbeat(report, options.heartbeatInterval().multipliedBy(3));
      health.answered();
    } catch (RuntimeException e) {
      log.warn("could not record heartbeat: {}", e.toString());
    }
    if (lastHeartbeatEvent == null
        || !now.isBefore(lastHeartbeatEvent.plus(HEARTBEAT_EVENT_INTERVAL))) {
      lastHeartbeatEvent = now;
      if (state == State.RUNNING && startedAt != null && now.isAfter(startedAt)) {
        emit(EventType.WORKER_HEARTBEAT);
      }
    }
  }

  /** What this worker would report in a heartbeat now. */
  public WorkerInfo snapshot() {
    return info.snapshot(
        startedAt,
        clock.instant(),
        attempts.runningTasks(),
        attempts.processed(),
        attempts.failed(),
        problem());
  }

  /** False when it is alive but not consuming; {@link #problem()} says why. */
  public boolean isConsuming() {
    return problem() == null;
  }

  /**
   * What keeps this worker from consuming, or null if nothing does: it is not running, its claims
   * fail, its fetch loop or timer is stuck, or its outcome writes have failed or been blocked for
   * longer than the stall timeout.
   */
  public String problem() {
    if (halted || state != State.RUNNING) {
      return "not running (" + (halted ? "halted" : state.name().toLowerCase()) + ")";
    }
    return stalls.problem(fetcher.isAlive());
  }

  private void emit(EventType type) {
    events.emit(new Event(0, type, clock.instant(), null, null, name, null, null));
  }

  /**
   * Stops gracefully: no more fetching, prefetched messages handed back at once, running tasks
   * given {@code timeout} to finish, then interrupted and handed back.
   *
   * @return true if every running task finished within the timeout
   */
  public boolean shutdown(Duration timeout) throws InterruptedException {
    synchronized (this) {
      if (state == State.NEW) {
        state = State.STOPPED;
        terminated.countDown();
        return true;
      }
      if (state != State.RUNNING) {
        terminated.await();
        return true;
      }
      state = State.STOPPING;
    }
    log.info("worker {} shutting down", name);
    fetcher.stop(options.pollInterval().plusSeconds(5).toMillis());
    handBackPrefetched();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (attempts.busy() && System.nanoTime() < deadline) {
      capacity.await(Math.min(50, (deadline - System.nanoTime()) / 1_000_000));
      handBackPrefetched(); // a slot may have put one back while stopping
    }
    boolean clean = !attempts.busy();
    if (!clean) {
      log.warn(
          "{} tasks still running after {}; interrupting them", attempts.runningCount(), timeout);
      for (Attempt a : attempts.running()) {
        a.cancel(Attempt.Cancellation.SHUTDOWN);
      }
      long grace = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      while (attempts.busy() && System.nanoTime() < grace) {
        capacity.await(50);
      }
      for (Attempt a : new ArrayList<>(attempts.running())) {
        try {
          runner.handBack(a);
        } catch (RuntimeException ex) {
          log.error("could not hand back task [{}]; it returns after its lease", a.id(), ex);
        }
      }
    }
    handBackPrefetched();
    int parked = heldRetries().size();
    if (parked > 0) {
      log.warn(
          "{} retries wait for threads stuck past their hard time limit; they are sent by whoever"
              + " outlives this process (errand worker's supervisor), or come back when their"
              + " leases run out",
          parked);
    }
    writer.close();
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
    state = State.STOPPED;
    terminated.countDown();
    log.info("worker {} stopped ({} tasks processed)", name, attempts.processed());
    return clean;
  }

  /**
   * Hands back prefetched messages through the writer: their RECEIVED states, submitted earlier,
   * are stored before the message can go to another worker, whose outcome they must not overwrite.
   */
  private void handBackPrefetched() {
    List<Attempt> back = attempts.drainPrefetched();
    for (Attempt a : back) {
      runner.release(a);
    }
    if (!back.isEmpty()) {
      log.info("handing back {} prefetched messages", back.size());
    }
  }

  /**
   * Stops every thread at once without acking, releasing or recording anything, as if the process
   * had been killed: held messages come back when their leases expire. For tests.
   */
  public void halt() {
    halted = true;
    writer.halt();
    runner.halt();
    timer.shutdownNow();
    heartbeats.shutdownNow();
    eventFlusher.shutdownNow();
    fetcher.interrupt();
    slots.interruptAll();
    state = State.STOPPED;
    terminated.countDown();
  }

  /** Waits until the worker has stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Whether it is running (started and not stopping). */
  public boolean isRunning() {
    return state == State.RUNNING;
  }

  /** Tasks running now. */
  public int runningCount() {
    return attempts.runningCount();
  }

  /** Messages leased but not started. */
  public int prefetchedCount() {
    return attempts.prefetchedCount();
  }
}
