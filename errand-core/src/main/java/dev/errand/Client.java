package dev.errand;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.internal.DefaultClient;
import dev.errand.spi.Backend;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Enqueues tasks and reads their results. Starts no threads: a process that only sends tasks needs
 * nothing else. Thread-safe; share one per backend.
 *
 * <pre>{@code
 * Client client = Client.create(backend);
 * AsyncResult<Receipt> r = client.enqueue(SEND_EMAIL, new SendEmail("a@example.com", "Hi"));
 * Receipt receipt = r.get(Duration.ofSeconds(10));
 * }</pre>
 *
 * <p>The queue of a call is the first of: the call's option, the first matching routing rule, the
 * task definition's option, {@value TaskOptions#DEFAULT_QUEUE}.
 */
public interface Client {

  /** Messages larger than this are refused when sent: 1 MiB. */
  int DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

  /** How long a revocation is remembered: 1 day. */
  Duration DEFAULT_REVOKE_TTL = Duration.ofDays(1);

  /** How long a workflow's groups and chords are kept unless the builder says otherwise. */
  Duration DEFAULT_WORKFLOW_TTL = Duration.ofDays(7);

  /** The MDC key whose value, if set in the caller's thread, becomes the request id. */
  String DEFAULT_REQUEST_ID_MDC_KEY = "requestId";

  /** A client with default options. */
  static Client create(Backend backend) {
    return builder(backend).build();
  }

  /** A builder for a client of {@code backend}. */
  static Builder builder(Backend backend) {
    return new Builder(backend);
  }

  /**
   * Enqueues a task with its definition's options.
   *
   * @param argument plain data (see {@link dev.errand.wire.PlainData}: records, strings, numbers,
   *     enums, java.time values, JsonNode, and arrays, collections and maps of them); never null,
   *     unless the task's argument type is {@code Void}
   * @throws IllegalArgumentException if {@code argument} is null for a task that takes one, or is
   *     not plain data (a record holding a {@code Thread}, a POJO): the message names the task, the
   *     argument type and where in the argument the offending value is; nothing is sent
   * @throws MessageTooLargeException if the encoded message is over the size limit
   * @throws BackendException if the broker cannot be reached
   */
  default <A, R> AsyncResult<R> enqueue(TaskDef<A, R> task, A argument) {
    return enqueue(task, argument, TaskOptions.none());
  }

  /**
   * Enqueues a task that takes no argument (its argument type is {@code Void}), with its
   * definition's options; {@code enqueue(task, null, options)} sets options.
   */
  default <R> AsyncResult<R> enqueue(TaskDef<Void, R> task) {
    return enqueue(task, null, TaskOptions.none());
  }

  /**
   * Enqueues a task; options set in {@code options} override the definition's.
   *
   * @throws IllegalArgumentException as {@link #enqueue(TaskDef, Object)}
   */
  <A, R> AsyncResult<R> enqueue(TaskDef<A, R> task, A argument, TaskOptions options);

  /** Celery's name for {@link #enqueue(TaskDef, Object)}. */
  default <A, R> AsyncResult<R> delay(TaskDef<A, R> task, A argument) {
    return enqueue(task, argument);
  }

  /**
   * Enqueues many calls of one task in as few round trips as the backend allows.
   *
   * @throws IllegalArgumentException if any argument is refused as by {@link #enqueue(TaskDef,
   *     Object)}, naming its index; every argument is checked before any is sent, so then nothing
   *     is sent
   */
  <A, R> List<AsyncResult<R>> enqueueAll(
      TaskDef<A, R> task, List<A> arguments, TaskOptions options);

  /**
   * Sends a task by name with raw JSON arguments: an array is positional, an object keyword
   * arguments. For producers that do not share the task definition (or another language's tasks).
   */
  default AsyncResult<JsonNode> send(String taskName, JsonNode arguments) {
    return send(taskName, arguments, TaskOptions.none());
  }

  /** {@link #send(String, JsonNode)} with options. */
  AsyncResult<JsonNode> send(String taskName, JsonNode arguments, TaskOptions options);

  /**
   * Sends a task by name with positional and keyword arguments, like Celery's {@code
   * send_task(name, args, kwargs)}; either may be null.
   */
  AsyncResult<JsonNode> send(
      String taskName, ArrayNode args, ObjectNode kwargs, TaskOptions options);

  /**
   * {@link #send(String, JsonNode)} with the arguments as JSON text.
   *
   * @throws IllegalArgumentException if {@code jsonArguments} is not valid JSON
   */
  AsyncResult<JsonNode> send(String taskName, String jsonArguments);

  /** A handle on the result of task {@code id}, read as JSON. */
  AsyncResult<JsonNode> result(String id);

  /** A handle on the result of task {@code id}, decoded as {@code task}'s result type. */
  <R> AsyncResult<R> result(String id, TaskDef<?, R> task);

  /**
   * Revokes a task: if not yet started it will be skipped (state REVOKED), if running its handler
   * is interrupted and its outcome is REVOKED.
   *
   * @return false if the task is already ready
   */
  boolean revoke(String id);

  /** The dead letter list. */
  DeadLetters deadLetters();

  /**
   * Sends a chain: its first step now, each next one by the settlement of the step before it.
   *
   * @return the result of its last step (a chord's callback chain's last step, if it ends in one)
   * @throws IllegalArgumentException if a step cannot be sent (it sets an idempotency key)
   * @throws MessageTooLargeException if a message it sends now is over the size limit
   */
  <R> AsyncResult<R> send(dev.errand.workflow.Chain<R> chain);

  /** Sends a chord: its members now, its callback once the last member has finished. */
  <R> AsyncResult<R> send(dev.errand.workflow.Chord<R> chord);

  /**
   * Sends a group: every member now, in batches. Its membership is stored, so {@link #groupResult}
   * reads it from any process.
   */
  <R> dev.errand.workflow.GroupResult<R> send(dev.errand.workflow.Group<R> group);

  /**
   * The group sent with id {@code groupId}, from any process; empty if unknown or expired. Its
   * results are JSON: read one with {@link #result(String, TaskDef)} for another type.
   */
  java.util.Optional<dev.errand.workflow.GroupResult<JsonNode>> groupResult(String groupId);

  /**
   * A sent workflow as a whole, from any process: every task with its state, and the one holding it
   * up; empty if unknown or expired. Its id is its group's for a group, else its end task's (the id
   * of the result {@link #send(dev.errand.workflow.Chain)} returned). Reads every status in
   * batches.
   */
  java.util.Optional<dev.errand.workflow.WorkflowState> workflow(String id);

  /**
   * Revokes every task of a sent workflow that has not finished, the steps not sent yet included; a
   * step revoked before it runs stops its chain like a failure.
   *
   * @return how many tasks were revoked; 0 if the workflow is unknown or finished
   */
  int revokeWorkflow(String id);

  /**
   * A client that enqueues inside the caller's transaction on {@code connection}, with this one's
   * options: what it sends exists if, and only if, the transaction commits, and workers see it at
   * once when it does ({@link Backend#joining}). For the PostgreSQL backend, with a connection to
   * the backend's database:
   *
   * <pre>{@code
   * try (Connection c = dataSource.getConnection()) {
   *   c.setAutoCommit(false);
   *   insertOrder(c, order);
   *   client.inTransaction(c).enqueue(SEND_RECEIPT, new Receipt(order.id()));
   *   c.commit(); // the task and the order row appear together, or neither does
   * }
   * }</pre>
   *
   * <p>The returned client is meant for one transaction, from the thread that owns it; its results
   * are read from the backend as usual.
   *
   * @throws UnsupportedOperationException if the backend cannot join a JDBC transaction (Redis,
   *     SQLite, memory)
   * @throws IllegalStateException when sending, if the connection is in auto-commit mode
   */
  Client inTransaction(java.sql.Connection connection);

  /** The backend this client sends to. */
  Backend backend();

  /** Builds a {@link Client}. Not thread-safe. */
  final class Builder {
    private final Backend backend;
    private Routes routes = Routes.none();
    private Clock clock;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
    private Duration revokeTtl = DEFAULT_REVOKE_TTL;
    private String requestIdMdcKey = DEFAULT_REQUEST_ID_MDC_KEY;
    private boolean sentEvents = true;
    private Duration workflowTtl = DEFAULT_WORKFLOW_TTL;
    private java.util.function.Function<String, TaskOptions> taskOptions;

    private Builder(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      this.clock = backend.clock();
    }

    /** Routing rules from task names to queues; default none. */
    public Builder routes(Routes routes) {
      this.routes = Objects.requireNonNull(routes, "routes");
      return this;
    }

    /**
     * The clock for countdowns, expiry and timestamps; default the backend's ({@link
     * Backend#clock()}), so an eta or expiry sent from a host with a wrong clock still means to the
     * backend what the caller meant.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Largest encoded message accepted, in bytes, {@code > 0}; default 1 MiB. */
    public Builder maxMessageBytes(int maxMessageBytes) {
      if (maxMessageBytes <= 0) {
        throw new IllegalArgumentException(
            "maxMessageBytes must be > 0 but was " + maxMessageBytes);
      }
      this.maxMessageBytes = maxMessageBytes;
      return this;
    }

    /** How long revocations are remembered, {@code > 0}; default 1 day. */
    public Builder revokeTtl(Duration revokeTtl) {
      Objects.requireNonNull(revokeTtl, "revokeTtl");
      if (revokeTtl.isNegative() || revokeTtl.isZero()) {
        throw new IllegalArgumentException("revokeTtl must be > 0 but was " + revokeTtl);
      }
      this.revokeTtl = revokeTtl;
      return this;
    }

    /**
     * How long a workflow's groups and chords are kept, {@code > 0}; default 7 days. A chord whose
     * last member finishes later than this after it was sent never runs its callback.
     */
    public Builder workflowTtl(Duration workflowTtl) {
      Objects.requireNonNull(workflowTtl, "workflowTtl");
      if (workflowTtl.isNegative() || workflowTtl.isZero()) {
        throw new IllegalArgumentException("workflowTtl must be > 0 but was " + workflowTtl);
      }
      this.workflowTtl = workflowTtl;
      return this;
    }

    /** The MDC key read for the request id; default {@value #DEFAULT_REQUEST_ID_MDC_KEY}. */
    public Builder requestIdMdcKey(String key) {
      this.requestIdMdcKey = Objects.requireNonNull(key, "requestIdMdcKey");
      return this;
    }

    /** Whether a {@code task-sent} event is recorded per message; default true. */
    public Builder sentEvents(boolean sentEvents) {
      this.sentEvents = sentEvents;
      return this;
    }

    /**
     * Default options of tasks by name, like Celery's {@code task_annotations}: for each call, the
     * options {@code byName} gives for its task name (null: none) are overridden by the task
     * definition's own and then by the call's. Applies to {@link #enqueue}, {@link #send} and
     * workflow steps. Called on every call, from any thread: keep it a map lookup. Default none.
     */
    public Builder taskOptions(java.util.function.Function<String, TaskOptions> byName) {
      this.taskOptions = Objects.requireNonNull(byName, "taskOptions");
      return this;
    }

    /** Builds the client. */
    public Client build() {
      return new DefaultClient(
          backend,
          routes,
          clock,
          maxMessageBytes,
          revokeTtl,
          requestIdMdcKey,
          sentEvents,
          workflowTtl,
          taskOptions);
    }
  }
}
