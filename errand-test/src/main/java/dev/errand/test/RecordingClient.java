package dev.errand.test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetters;
import dev.errand.Routes;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.EventStore;
import dev.errand.spi.NewMessage;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.WorkerRegistry;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link Client} that records what it is asked to send instead of sending it, so a test can
 * assert on what was enqueued: Errand's {@code Sidekiq::Testing.fake!}. Every call goes through the
 * real client (routing, defaults, countdowns, plain-data and size checks, the wire encoding); only
 * the broker's enqueue is replaced by a list. Nothing runs until the test drains the list into a
 * client that runs or queues tasks.
 *
 * <pre>{@code
 * @ExtendWith(ErrandExtension.class)
 * class SignupTest {
 *   @Test
 *   void queuesTheWelcomeEmailInFiveMinutes(RecordingClient client, MutableClock clock) {
 *     new Signup(client).register("ada@example.com");
 *
 *     Enqueued<SendEmail> call = client.enqueued(SEND_EMAIL).get(0);
 *     assertThat(call.argument().to()).isEqualTo("ada@example.com");
 *     assertThat(call.delay()).isEqualTo(Duration.ofMinutes(5));
 *   }
 * }
 * }</pre>
 *
 * <p>What it keeps of the broker's contract: an idempotency key seen within its window (by this
 * client's clock) returns the first call's id and records nothing. Results, revocations and dead
 * letters go to the backend it was made on, so a handle it returns reads the outcome once the task
 * has run in a client over the same stores (see {@link #drainTo}). It publishes no {@code
 * task-sent} events: nothing was sent. Its {@link #backend()} is a view of that backend whose
 * broker records enqueues and passes every other call to the backend's own broker.
 *
 * <p>Thread-safe: tasks may be sent from several threads.
 */
public final class RecordingClient implements Client {

  /**
   * The most messages one {@link #drainTo} sends (tasks that enqueue more while draining included)
   * before it gives up: {@value}.
   */
  public static final int MAX_DRAINED = 100_000;

  private final Recorder recorder;
  private final Client client;

  private RecordingClient(Backend backend, Clock clock, Routes routes) {
    this.recorder = new Recorder(clock);
    this.client =
        Client.builder(
                new RecordingBackend(backend, new RecordingBroker(backend.broker(), recorder)))
            .clock(clock)
            .routes(routes)
            .sentEvents(false)
            .build();
  }

  /** A recording client over {@code backend}, on the backend's clock, without routes. */
  public static RecordingClient create(Backend backend) {
    return builder(backend).build();
  }

  /** A builder for a recording client over {@code backend}. */
  public static Builder builder(Backend backend) {
    return new Builder(backend);
  }

  // ---- what was enqueued ----

  /** Every task recorded since the start or the last {@link #clear}, oldest first. */
  public List<Enqueued<JsonNode>> enqueued() {
    List<Enqueued<JsonNode>> out = new ArrayList<>();
    for (Recorded r : recorder.snapshot()) {
      out.add(new Enqueued<>(r.message(), JsonNode.class));
    }
    return out;
  }

  /**
   * The recorded calls of {@code task} (sent with its definition or by its name), oldest first,
   * with their arguments bound to its argument type.
   */
  public <A> List<Enqueued<A>> enqueued(TaskDef<A, ?> task) {
    Objects.requireNonNull(task, "task");
    List<Enqueued<A>> out = new ArrayList<>();
    for (Recorded r : recorder.snapshot()) {
      if (r.message().task().equals(task.name())) {
        out.add(new Enqueued<>(r.message(), task.argType()));
      }
    }
    return out;
  }

  /** The recorded calls of the task named {@code taskName}, oldest first. */
  public List<Enqueued<JsonNode>> enqueued(String taskName) {
    Objects.requireNonNull(taskName, "taskName");
    List<Enqueued<JsonNode>> out = new ArrayList<>();
    for (Recorded r : recorder.snapshot()) {
      if (r.message().task().equals(taskName)) {
        out.add(new Enqueued<>(r.message(), JsonNode.class));
      }
    }
    return out;
  }

  /** Forgets every recorded call, and the idempotency keys they took. */
  public void clear() {
    recorder.clear();
  }

  /**
   * Sends every recorded message, oldest first and exactly as it was encoded (same id, queue,
   * priority, eta and key), to {@code target}'s broker, and forgets it here: Sidekiq's {@code
   * drain}. Messages recorded while draining (a task whose handler enqueues through this client)
   * are sent too, until none is left.
   *
   * <p>To run them at once, drain into an eager client over the same stores (from {@code
   * errand-worker}), so that the handles this client returned see their outcomes:
   *
   * <pre>{@code
   * client.drainTo(Eager.builder(tasks).stores(backend).clock(clock).build());
   * }</pre>
   *
   * A client of a real backend enqueues them instead, for a worker to run.
   *
   * @return handles on the drained tasks' results, read through {@code target}, in the order sent
   * @throws IllegalStateException if more than {@value #MAX_DRAINED} messages kept coming
   */
  public List<AsyncResult<JsonNode>> drainTo(Client target) {
    Objects.requireNonNull(target, "target");
    if (target == this) {
      throw new IllegalArgumentException("a recording client cannot drain into itself");
    }
    List<AsyncResult<JsonNode>> handles = new ArrayList<>();
    int sent = 0;
    for (List<Recorded> batch = recorder.take(); !batch.isEmpty(); batch = recorder.take()) {
      for (Recorded r : batch) {
        if (++sent > MAX_DRAINED) {
          throw new IllegalStateException(
              "drained "
                  + MAX_DRAINED
                  + " messages and more keep coming (a task that enqueues itself?)");
        }
        // One at a time: an eager target runs each inside enqueue, and a task may record more.
        EnqueueResult result = target.backend().broker().enqueue(List.of(r.newMessage())).get(0);
        handles.add(target.result(result.id()));
      }
    }
    return handles;
  }

  // ---- Client, delegated to the real client over the recording backend ----

  @Override
  public <A, R> AsyncResult<R> enqueue(TaskDef<A, R> task, A argument, TaskOptions options) {
    return client.enqueue(task, argument, options);
  }

  @Override
  public <A, R> List<AsyncResult<R>> enqueueAll(
      TaskDef<A, R> task, List<A> arguments, TaskOptions options) {
    return client.enqueueAll(task, arguments, options);
  }

  @Override
  public AsyncResult<JsonNode> send(String taskName, JsonNode arguments, TaskOptions options) {
    return client.send(taskName, arguments, options);
  }

  @Override
  public AsyncResult<JsonNode> send(
      String taskName, ArrayNode args, ObjectNode kwargs, TaskOptions options) {
    return client.send(taskName, args, kwargs, options);
  }

  @Override
  public AsyncResult<JsonNode> send(String taskName, String jsonArguments) {
    return client.send(taskName, jsonArguments);
  }

  @Override
  public AsyncResult<JsonNode> result(String id) {
    return client.result(id);
  }

  @Override
  public <R> AsyncResult<R> result(String id, TaskDef<?, R> task) {
    return client.result(id, task);
  }

  @Override
  public boolean revoke(String id) {
    return client.revoke(id);
  }

  /** The dead letters of the backend; a re-drive is recorded like any enqueue. */
  @Override
  public DeadLetters deadLetters() {
    return client.deadLetters();
  }

  /** Records the chain's first message; the rest is sent as the steps are settled. */
  @Override
  public <R> AsyncResult<R> send(dev.errand.workflow.Chain<R> chain) {
    return client.send(chain);
  }

  /** Records the chord's members; its callback is stored with the chord, as a real send does. */
  @Override
  public <R> AsyncResult<R> send(dev.errand.workflow.Chord<R> chord) {
    return client.send(chord);
  }

  /** Records the group's members. */
  @Override
  public <R> dev.errand.workflow.GroupResult<R> send(dev.errand.workflow.Group<R> group) {
    return client.send(group);
  }

  @Override
  public java.util.Optional<dev.errand.workflow.WorkflowState> workflow(String id) {
    return client.workflow(id);
  }

  @Override
  public int revokeWorkflow(String id) {
    return client.revokeWorkflow(id);
  }

  @Override
  public java.util.Optional<
          dev.errand.workflow.GroupResult<com.fasterxml.jackson.databind.JsonNode>>
      groupResult(String groupId) {
    return client.groupResult(groupId);
  }

  /**
   * Refused: a recording client records instead of sending, so there is no transaction to join.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public Client inTransaction(java.sql.Connection connection) {
    throw new UnsupportedOperationException(
        "a RecordingClient records what is sent and cannot join a JDBC transaction");
  }

  /** The backend, with a broker whose enqueue records (see the class description). */
  @Override
  public Backend backend() {
    return client.backend();
  }

  @Override
  public String toString() {
    return "RecordingClient[" + recorder.snapshot().size() + " recorded]";
  }

  /** Builds a {@link RecordingClient}. Not thread-safe. */
  public static final class Builder {
    private final Backend backend;
    private Clock clock;
    private Routes routes = Routes.none();

    private Builder(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      this.clock = backend.clock();
    }

    /**
     * The clock for countdowns, timestamps and idempotency windows; default the backend's. Give it
     * the test's {@link MutableClock}.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Routing rules, as the production client has them; default none. */
    public Builder routes(Routes routes) {
      this.routes = Objects.requireNonNull(routes, "routes");
      return this;
    }

    /** Builds the client. */
    public RecordingClient build() {
      return new RecordingClient(backend, clock, routes);
    }
  }

  // ---- the recording ----

  /** One recorded message: as the broker got it, and decoded. */
  private record Recorded(NewMessage newMessage, TaskMessage message) {}

  /** The list, and the idempotency keys it holds. Guarded by itself. */
  private static final class Recorder {
    private final Clock clock;
    private final List<Recorded> recorded = new ArrayList<>();
    private final Map<String, Key> keys = new HashMap<>();

    private record Key(String id, Instant until) {}

    Recorder(Clock clock) {
      this.clock = clock;
    }

    synchronized List<EnqueueResult> enqueue(List<NewMessage> messages) {
      List<EnqueueResult> out = new ArrayList<>(messages.size());
      Instant now = clock.instant();
      for (NewMessage m : messages) {
        if (m.idempotencyKey() != null) {
          Key held = keys.get(m.idempotencyKey());
          if (held != null && now.isBefore(held.until())) {
            out.add(new EnqueueResult(held.id(), true));
            continue;
          }
          keys.put(m.idempotencyKey(), new Key(m.id(), now.plus(m.idempotencyWindow())));
        }
        recorded.add(new Recorded(m, Wire.decodeMessage(m.body())));
        out.add(new EnqueueResult(m.id(), false));
      }
      return out;
    }

    synchronized List<Recorded> snapshot() {
      return List.copyOf(recorded);
    }

    /** Everything recorded, removed from the list (its keys stay taken, as in a broker). */
    synchronized List<Recorded> take() {
      List<Recorded> all = List.copyOf(recorded);
      recorded.clear();
      return all;
    }

    synchronized void clear() {
      recorded.clear();
      keys.clear();
    }
  }

  /** The backend a recording client's real client sends to. */
  private record RecordingBackend(Backend backend, Broker broker) implements Backend {

    @Override
    public ResultStore results() {
      return backend.results();
    }

    @Override
    public DeadLetterStore deadLetters() {
      return backend.deadLetters();
    }

    @Override
    public EventStore events() {
      return backend.events();
    }

    @Override
    public WorkerRegistry workers() {
      return backend.workers();
    }

    @Override
    public ScheduleStore schedules() {
      return backend.schedules();
    }

    @Override
    public dev.errand.spi.WorkflowStore workflows() {
      return backend.workflows();
    }

    @Override
    public java.util.Set<String> settle(List<dev.errand.spi.Settlement> batch, Duration ttl) {
      return backend.settle(batch, ttl);
    }

    @Override
    public Clock clock() {
      return backend.clock();
    }

    @Override
    public String describe() {
      return "recording over " + backend.describe();
    }

    /** The backend belongs to whoever made it (the extension closes its own). */
    @Override
    public void close() {}
  }

  /** Records enqueues; everything else is the wrapped broker's. */
  private static final class RecordingBroker extends dev.errand.spi.ForwardingBroker {
    private final Recorder recorder;

    RecordingBroker(Broker broker, Recorder recorder) {
      super(broker);
      this.recorder = recorder;
    }

    @Override
    public List<EnqueueResult> enqueue(List<NewMessage> messages) {
      return recorder.enqueue(messages);
    }
  }
}
