package dev.errand.worker;

import dev.errand.Client;
import dev.errand.Routes;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.worker.internal.BackendHealth;
import dev.errand.worker.internal.EagerBackend;
import dev.errand.worker.internal.EventSink;
import dev.errand.worker.internal.InlineBroker;
import dev.errand.worker.internal.OutcomeWriter;
import dev.errand.worker.internal.TaskRunner;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.random.RandomGenerator;

/**
 * Eager mode: a {@link Client} that runs each task at once on the caller's thread, through the same
 * code path as a worker (the same decoding, retries, states, results and dead letters), with no
 * broker and no threads. For unit tests and scripts.
 *
 * <pre>{@code
 * Client client = Eager.builder(tasks).propagateExceptions(true).build();
 * AsyncResult<Receipt> r = client.enqueue(SEND_EMAIL, mail); // already SUCCESS or FAILURE
 * }</pre>
 *
 * <p>Differences from a worker, as in Celery: countdown, eta and retry backoff are not waited for
 * (retries run at once), and there are no time limits or leases.
 */
public final class Eager {

  /** The worker name recorded in eager mode: {@value}. */
  public static final String WORKER_NAME = "eager";

  private Eager() {}

  /** An eager client over a new in-memory backend, exceptions not propagated. */
  public static Client client(TaskRegistry tasks) {
    return builder(tasks).build();
  }

  /** A builder for an eager client. */
  public static Builder builder(TaskRegistry tasks) {
    return new Builder(tasks);
  }

  /** Builds an eager {@link Client}. Not thread-safe. */
  public static final class Builder {
    private final TaskRegistry tasks;
    private Backend stores;
    private Clock clock = Clock.systemUTC();
    private boolean propagateExceptions;
    private Routes routes = Routes.none();
    private WorkerListener listener = new WorkerListener() {};
    private final List<TaskInterceptor> interceptors = new ArrayList<>();
    private RandomGenerator random = new Random();

    private Builder(TaskRegistry tasks) {
      this.tasks = Objects.requireNonNull(tasks, "tasks");
    }

    /** Where states, results and dead letters go; default a new in-memory backend. */
    public Builder stores(Backend stores) {
      this.stores = Objects.requireNonNull(stores, "stores");
      return this;
    }

    /** The clock; default the UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Whether {@code enqueue} throws {@link dev.errand.TaskFailedException} when the task ends in
     * FAILURE (after its retries); default false, the failure is only recorded.
     */
    public Builder propagateExceptions(boolean propagate) {
      this.propagateExceptions = propagate;
      return this;
    }

    /** Routing rules; default none. */
    public Builder routes(Routes routes) {
      this.routes = Objects.requireNonNull(routes, "routes");
      return this;
    }

    /** A listener, as on a worker. */
    public Builder listener(WorkerListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** An interceptor, as on a worker. */
    public Builder interceptor(TaskInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /** The random source of retry jitter. */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Builds the client. */
    public Client build() {
      Backend base = stores != null ? stores : new InMemoryBackend(clock);
      InlineBroker broker = new InlineBroker(clock, base.results(), propagateExceptions);
      EagerBackend backend = new EagerBackend(base, broker);
      Client client = Client.builder(backend).clock(clock).routes(routes).build();
      TaskRunner runner =
          new TaskRunner(
              backend,
              tasks,
              new TaskRunner.Config(
                  WORKER_NAME,
                  WorkerOptions.DEFAULT_MAX_DELIVERIES,
                  WorkerOptions.DEFAULT_RESULT_EXPIRES,
                  WorkerOptions.DEFAULT_MAX_RESULT_BYTES,
                  WorkerOptions.DEFAULT_MAX_MESSAGE_BYTES + WorkerOptions.RETRY_HEADROOM_BYTES),
              clock,
              listener,
              interceptors,
              EventSink.direct(backend.events()),
              random,
              client,
              OutcomeWriter.direct(backend, WorkerOptions.DEFAULT_RESULT_EXPIRES),
              new BackendHealth());
      broker.runner(runner);
      return client;
    }
  }
}
