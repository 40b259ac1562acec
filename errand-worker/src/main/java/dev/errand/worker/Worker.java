package dev.errand.worker;

import dev.errand.Client;
import dev.errand.Routes;
import dev.errand.TaskDef;
import dev.errand.WorkerInfo;
import dev.errand.spi.Backend;
import dev.errand.wire.CallHistory;
import dev.errand.worker.internal.BackendHealth;
import dev.errand.worker.internal.EventSink;
import dev.errand.worker.internal.Hosts;
import dev.errand.worker.internal.OutcomeWriter;
import dev.errand.worker.internal.RoutingCheck;
import dev.errand.worker.internal.TaskRunner;
import dev.errand.worker.internal.Threads;
import dev.errand.worker.internal.WorkerEngine;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.random.RandomGenerator;

/**
 * Consumes queues and runs tasks. Thread-safe.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(backend)
 *     .tasks(new TaskRegistry().handle(RESIZE, (img, ctx) -> resizer.resize(img)))
 *     .options(WorkerOptions.builder().queues("images", "default").concurrency(8).build())
 *     .build()
 *     .start();
 * Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
 * }</pre>
 *
 * <p>Guarantees: a message is acknowledged only after its outcome (result, retry or dead letter) is
 * recorded; leases are renewed while tasks run; a worker that dies loses nothing (its leases expire
 * and the messages are delivered again). On {@link #close()} it stops fetching, hands back
 * prefetched messages at once, and waits up to the shutdown timeout for running tasks.
 *
 * <p>Its threads are daemon threads: keep the process alive, for example with {@link
 * #awaitTermination(Duration)}.
 */
public final class Worker implements AutoCloseable {

  /** MDC key of the task id in every log line written inside a task. */
  public static final String MDC_TASK_ID = CallHistory.TASK_ID_MDC_KEY;

  /** MDC key of the task name. */
  public static final String MDC_TASK_NAME = "taskName";

  /** MDC key of the caller's request id, when the message carries one. */
  public static final String MDC_REQUEST_ID = "requestId";

  private static final int EVENT_BUFFER = 10_000;

  private final String name;
  private final WorkerOptions options;
  private final TaskRegistry tasks;
  private final Routes routes;
  private final WorkerEngine engine;

  private Worker(Builder b) {
    this.options = b.options;
    this.tasks = b.tasks;
    this.routes = b.routes;
    this.name = options.name() != null ? options.name() : Hosts.defaultWorkerName();
    Threads.factory(options.pool(), "errand-check"); // fails fast if the pool is unavailable
    Client client =
        b.client != null
            ? b.client
            : Client.builder(b.backend).clock(b.clock).routes(b.routes).build();
    EventSink events = EventSink.buffered(b.backend.events(), EVENT_BUFFER);
    BackendHealth health = new BackendHealth();
    OutcomeWriter writer =
        OutcomeWriter.batching(b.backend, options.resultExpires(), health, "errand-writer");
    TaskRunner runner =
        new TaskRunner(
            b.backend,
            b.tasks,
            new TaskRunner.Config(
                name,
                options.maxDeliveries(),
                options.resultExpires(),
                options.maxResultBytes(),
                options.maxMessageBytes() + WorkerOptions.RETRY_HEADROOM_BYTES),
            b.clock,
            b.listener,
            b.interceptors,
            events,
            b.random,
            client,
            writer,
            health);
    this.engine =
        new WorkerEngine(
            b.backend, runner, options, name, b.clock, b.listener, events, writer, health);
  }

  /** A builder for a worker on {@code backend}. */
  public static Builder builder(Backend backend) {
    return new Builder(backend);
  }

  /**
   * Starts fetching and running tasks. Logs a warning for each registered task whose messages go to
   * a queue this worker does not consume (by the {@linkplain Builder#routes routes}, else the queue
   * of the task definition's options): they will wait for another worker.
   *
   * @return this worker
   * @throws IllegalStateException if it was already started
   */
  public Worker start() {
    engine.start();
    RoutingCheck.warn(tasks, routes, options.queues());
    return this;
  }

  /**
   * Stops gracefully within {@code timeout}: stops fetching, hands back prefetched messages at
   * once, lets running tasks finish, then interrupts the rest and hands them back.
   *
   * @return true if every running task finished in time
   */
  public boolean shutdown(Duration timeout) {
    try {
      return engine.shutdown(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** {@link #shutdown(Duration)} with the configured shutdown timeout. */
  @Override
  public void close() {
    shutdown(options.shutdownTimeout());
  }

  /**
   * Waits until the worker has stopped.
   *
   * @return false if the timeout passed first
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return engine.awaitTermination(timeout);
  }

  /** The worker's name. */
  public String name() {
    return name;
  }

  /** The options it runs with. */
  public WorkerOptions options() {
    return options;
  }

  /** Whether it is started and not shutting down. */
  public boolean isRunning() {
    return engine.isRunning();
  }

  /**
   * False when it is alive but not consuming: its claims fail, its fetch loop or timer is stuck, or
   * its outcome writes have failed or been blocked for longer than {@link
   * WorkerOptions#stallTimeout()}. {@link #info()} says why.
   */
  public boolean isConsuming() {
    return engine.isConsuming();
  }

  /**
   * Whether it has taken {@link WorkerOptions#maxTasks()} messages and started them all: it fetches
   * no more, and its process can be replaced once it is shut down.
   */
  public boolean taskLimitReached() {
    return engine.taskLimitReached();
  }

  /**
   * Threads abandoned at their hard time limit that still run. A JVM cannot stop a thread that
   * ignores interrupts; {@code errand worker} recycles its worker process when this passes a bound.
   */
  public int stuckThreads() {
    return engine.stuckThreads();
  }

  /**
   * Retries held back because the previous attempt still runs on a stuck thread, and still held
   * after {@link #shutdown}: the process that outlives this one sends them with {@link
   * HeldRetry#send} once this process has exited. Left alone, each comes back when its lease runs
   * out.
   */
  public List<HeldRetry> heldRetries() {
    return engine.heldRetries();
  }

  /** What it would report in a heartbeat now: running tasks, counters, health. */
  public WorkerInfo info() {
    return engine.snapshot();
  }

  /** Simulates a crash (tests): every thread stops, nothing is acked, released or recorded. */
  void halt() {
    engine.halt();
  }

  /** Tasks leased but not started yet. */
  int prefetchedCount() {
    return engine.prefetchedCount();
  }

  /** Builds a {@link Worker}. Not thread-safe. */
  public static final class Builder {
    private final Backend backend;
    private TaskRegistry tasks = new TaskRegistry();
    private WorkerOptions options = WorkerOptions.defaults();
    private Clock clock;
    private WorkerListener listener = new WorkerListener() {};
    private final List<TaskInterceptor> interceptors = new ArrayList<>();
    private RandomGenerator random = new Random();
    private Client client;
    private Routes routes = Routes.none();

    private Builder(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      this.clock = backend.clock();
    }

    /** The tasks this worker runs (replaces any registered before). */
    public Builder tasks(TaskRegistry tasks) {
      this.tasks = Objects.requireNonNull(tasks, "tasks");
      return this;
    }

    /** Registers one task. */
    public <A, R> Builder handle(TaskDef<A, R> task, TaskHandler<A, R> handler) {
      tasks.handle(task, handler);
      return this;
    }

    /** Registers one task without a result. */
    public <A, R> Builder handleVoid(TaskDef<A, R> task, VoidTaskHandler<A> handler) {
      tasks.handleVoid(task, handler);
      return this;
    }

    /** Queues, concurrency, pool, leases and bounds; default {@link WorkerOptions#defaults()}. */
    public Builder options(WorkerOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /**
     * The clock for every time decision (expiry, time limits, lease renewal, heartbeats, retry
     * times); default the backend's ({@link Backend#clock()}), so a host with a wrong clock still
     * agrees with the backend.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Told about outcomes, for metrics; default none. */
    public Builder listener(WorkerListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Adds an interceptor around every handler call; the first added is outermost. */
    public Builder interceptor(TaskInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /** The random source of retry jitter; default a new {@link Random}. */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * The app's routing rules (as in {@link ErrandApp#routes()}): the start warns about tasks they
     * send to a queue this worker does not consume, and the default {@code ctx.client()} sends with
     * them. Default none.
     */
    public Builder routes(Routes routes) {
      this.routes = Objects.requireNonNull(routes, "routes");
      return this;
    }

    /**
     * The client handed to tasks as {@code ctx.client()}; default one on the same backend with the
     * {@linkplain #routes routes}.
     */
    public Builder client(Client client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Builds the worker (not started).
     *
     * @throws IllegalStateException if no task is registered, or the pool is virtual on a JVM older
     *     than 21
     */
    public Worker build() {
      if (tasks.isEmpty()) {
        throw new IllegalStateException(
            "no task is registered: a worker without handlers would dead-letter every message");
      }
      return new Worker(this);
    }
  }
}
