package dev.errand.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetters;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.MessageTooLargeException;
import dev.errand.Routes;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.NewMessage;
import dev.errand.wire.Arguments;
import dev.errand.wire.CallHistory;
import dev.errand.wire.Flow;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import dev.errand.workflow.Chain;
import dev.errand.workflow.Chord;
import dev.errand.workflow.Group;
import dev.errand.workflow.GroupResult;
import dev.errand.workflow.Signature;
import dev.errand.workflow.WorkflowParts;
import java.lang.reflect.Type;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.MDC;

/** The client: builds messages, checks their size, and hands them to the broker. Thread-safe. */
public final class DefaultClient implements Client {

  private final Backend backend;
  private final Routes routes;
  private final Clock clock;
  private final int maxMessageBytes;
  private final Duration revokeTtl;
  private final String requestIdMdcKey;
  private final boolean sentEvents;
  private final Duration workflowTtl;
  private final DeadLetters deadLetters;

  /** Options of tasks by name, under a definition's own; null when none are configured. */
  private final java.util.function.Function<String, TaskOptions> taskOptions;

  public DefaultClient(
      Backend backend,
      Routes routes,
      Clock clock,
      int maxMessageBytes,
      Duration revokeTtl,
      String requestIdMdcKey,
      boolean sentEvents,
      Duration workflowTtl,
      java.util.function.Function<String, TaskOptions> taskOptions) {
    this.backend = backend;
    this.taskOptions = taskOptions;
    this.routes = routes;
    this.clock = clock;
    this.maxMessageBytes = maxMessageBytes;
    this.revokeTtl = revokeTtl;
    this.requestIdMdcKey = requestIdMdcKey;
    this.sentEvents = sentEvents;
    this.workflowTtl = workflowTtl;
    this.deadLetters = new DefaultDeadLetters(backend, clock);
  }

  @Override
  public Client inTransaction(java.sql.Connection connection) {
    java.util.Objects.requireNonNull(connection, "connection");
    return new DefaultClient(
        backend.joining(connection),
        routes,
        clock,
        maxMessageBytes,
        revokeTtl,
        requestIdMdcKey,
        sentEvents,
        workflowTtl,
        taskOptions);
  }

  @Override
  public <A, R> AsyncResult<R> enqueue(TaskDef<A, R> task, A argument, TaskOptions options) {
    return enqueueAll(task, java.util.Collections.singletonList(argument), options).get(0);
  }

  @Override
  public <A, R> List<AsyncResult<R>> enqueueAll(
      TaskDef<A, R> task, List<A> arguments, TaskOptions options) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(arguments, "arguments");
    Objects.requireNonNull(options, "options");
    int n = arguments.size();
    List<Outgoing> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Arguments.Json json;
      TaskOptions callOptions;
      try {
        json = Arguments.encode(task, arguments.get(i));
        callOptions = FlowControl.keysOf(task, arguments.get(i), options);
      } catch (IllegalArgumentException e) {
        // Every argument is checked before any is sent, so a refused batch sends nothing.
        throw n == 1
            ? e
            : new IllegalArgumentException(
                "argument " + i + " of " + n + " (none sent): " + e.getMessage(), e);
      }
      batch.add(prepare(task.name(), json, task.options(), callOptions));
    }
    return send(batch, task.resultType());
  }

  @Override
  public AsyncResult<JsonNode> send(String taskName, JsonNode arguments, TaskOptions options) {
    Objects.requireNonNull(options, "options");
    List<AsyncResult<JsonNode>> sent =
        send(
            List.of(
                prepare(
                    validSendName(taskName),
                    Arguments.fromJson(arguments),
                    TaskOptions.none(),
                    options)),
            JsonNode.class);
    return sent.get(0);
  }

  @Override
  public AsyncResult<JsonNode> send(
      String taskName, ArrayNode args, ObjectNode kwargs, TaskOptions options) {
    Objects.requireNonNull(options, "options");
    Arguments.Json json =
        new Arguments.Json(
            args == null ? Wire.mapper().createArrayNode() : args.deepCopy(),
            kwargs == null ? Wire.mapper().createObjectNode() : kwargs.deepCopy());
    List<AsyncResult<JsonNode>> sent =
        send(
            List.of(prepare(validSendName(taskName), json, TaskOptions.none(), options)),
            JsonNode.class);
    return sent.get(0);
  }

  @Override
  public AsyncResult<JsonNode> send(String taskName, String jsonArguments) {
    JsonNode args;
    try {
      args = jsonArguments == null ? null : Wire.mapper().readTree(jsonArguments);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "arguments of " + taskName + " are not valid JSON: " + e.getOriginalMessage(), e);
    }
    return send(taskName, args, TaskOptions.none());
  }

  @Override
  public AsyncResult<JsonNode> result(String id) {
    return new DefaultAsyncResult<>(
        Objects.requireNonNull(id, "id"), JsonNode.class, false, backend.results(), this, null);
  }

  @Override
  public <R> AsyncResult<R> result(String id, TaskDef<?, R> task) {
    return new DefaultAsyncResult<>(
        Objects.requireNonNull(id, "id"), task.resultType(), false, backend.results(), this, null);
  }

  @Override
  public boolean revoke(String id) {
    return revokeAll(List.of(Objects.requireNonNull(id, "id")), Map.of()) == 1;
  }

  @Override
  public <R> AsyncResult<R> send(Chain<R> chain) {
    Objects.requireNonNull(chain, "chain");
    WorkflowSender.Sent sent = sender().chain(chain);
    return endResult(sent, WorkflowParts.end(chain));
  }

  @Override
  public <R> AsyncResult<R> send(Chord<R> chord) {
    Objects.requireNonNull(chord, "chord");
    WorkflowSender.Sent sent = sender().chord(chord);
    return endResult(sent, WorkflowParts.end(chord));
  }

  @Override
  public <R> GroupResult<R> send(Group<R> group) {
    Objects.requireNonNull(group, "group");
    WorkflowSender.Sent sent = sender().group(group);
    published(sent);
    List<Type> types = new ArrayList<>(group.size());
    for (int i = 0; i < group.size(); i++) {
      types.add(WorkflowParts.resultType(WorkflowParts.memberEnd(group, i)));
    }
    return new DefaultGroupResult<>(sent.id(), sent.ends(), types, backend.results(), this);
  }

  @Override
  public Optional<GroupResult<JsonNode>> groupResult(String groupId) {
    Objects.requireNonNull(groupId, "groupId");
    return backend
        .workflows()
        .group(groupId)
        .map(
            ids ->
                new DefaultGroupResult<>(
                    groupId,
                    ids,
                    java.util.Collections.nCopies(ids.size(), (Type) JsonNode.class),
                    backend.results(),
                    this));
  }

  @Override
  public Optional<dev.errand.workflow.WorkflowState> workflow(String id) {
    return WorkflowReader.read(backend, Objects.requireNonNull(id, "id"));
  }

  /**
   * Revokes the unfinished tasks of a workflow that has not succeeded, in batches (see {@link
   * #revokeAll}); a step never sent gets its REVOKED status with its task name.
   */
  @Override
  public int revokeWorkflow(String id) {
    Optional<dev.errand.workflow.WorkflowState> state = workflow(id);
    if (state.isEmpty() || state.get().succeeded()) {
      return 0;
    }
    List<String> ids = new ArrayList<>();
    Map<String, String> names = new HashMap<>();
    for (dev.errand.workflow.WorkflowState.Step step : state.get().steps()) {
      if (!step.state().isReady()) {
        ids.add(step.taskId());
        names.put(step.taskId(), step.task());
      }
    }
    return revokeAll(ids, names);
  }

  /**
   * Revokes those of {@code ids} not finished (every revoke goes this way), with a batched read of
   * their statuses, one {@code revokeAll} of the backend, one write of the REVOKED statuses (for
   * those not running: a running task is stopped by its worker, which records its final state) and
   * one publish of their events: a constant number of round trips, not four per task.
   *
   * @param names task names for ids that have no status stored (a step never sent)
   * @return how many were revoked
   */
  int revokeAll(List<String> ids, Map<String, String> names) {
    Map<String, TaskStatus> known = backend.results().getAll(ids);
    Instant now = clock.instant();
    List<String> marked = new ArrayList<>();
    List<TaskStatus> revoked = new ArrayList<>();
    List<Event> events = new ArrayList<>();
    for (String id : ids) {
      TaskStatus current = known.get(id);
      if (current == null) {
        current = TaskStatus.pending(id, names.get(id), null, now);
      }
      if (current.state().isReady()) {
        continue;
      }
      marked.add(id);
      if (current.state() != TaskState.STARTED && current.state() != TaskState.PROGRESS) {
        revoked.add(current.withReason("revoked").withState(TaskState.REVOKED, now));
        events.add(
            new Event(
                0, EventType.TASK_REVOKED, now, id, current.name(), null, current.queue(), null));
      }
    }
    backend.results().revokeAll(marked, revokeTtl);
    if (!revoked.isEmpty()) {
      backend.results().putAll(revoked, revokeTtl);
      backend.events().publish(events);
    }
    return marked.size();
  }

  private WorkflowSender sender() {
    return new WorkflowSender(backend, workflowTtl, maxMessageBytes, this::sig, clock.instant());
  }

  private <R> AsyncResult<R> endResult(WorkflowSender.Sent sent, Signature<?> end) {
    published(sent);
    return new DefaultAsyncResult<>(
        sent.ends().get(0), WorkflowParts.resultType(end), false, backend.results(), this, null);
  }

  private void published(WorkflowSender.Sent sent) {
    if (sentEvents && !sent.first().isEmpty()) {
      backend.events().publish(WorkflowSender.sentEvents(sent));
    }
  }

  /**
   * The wire form of a workflow's task, with id {@code id}: queue, priority, headers and options
   * resolved as for a plain send; a countdown, eta or expiry becomes a delay from the moment the
   * step is sent (an eta in the past: none).
   */
  private Flow.Sig sig(Signature<?> s, String id) {
    String name = WorkflowParts.task(s);
    TaskOptions defaults = defaultsOf(name, WorkflowParts.defaults(s));
    TaskOptions call = WorkflowParts.options(s);
    TaskOptions eff = defaults.overriddenBy(call);
    if (eff.idempotencyKey() != null) {
      throw new IllegalArgumentException(
          "task " + name + " in a workflow sets an idempotency key: a workflow step cannot");
    }
    String queue = queueFor(name, defaults, call);
    int priority = eff.priority() != null ? eff.priority() : TaskOptions.DEFAULT_PRIORITY;
    Instant now = clock.instant();
    Long countdown =
        eff.eta() != null
            ? Long.valueOf(Math.max(0, Duration.between(now, eff.eta()).toMillis()))
            : eff.countdown() != null ? Long.valueOf(eff.countdown().toMillis()) : null;
    Long expires =
        eff.expiresAt() != null
            ? Long.valueOf(Duration.between(now, eff.expiresAt()).toMillis())
            : eff.expires() != null ? Long.valueOf(eff.expires().toMillis()) : null;
    Arguments.Json args = WorkflowParts.arguments(s);
    Wire.checkDepth(args.args(), "arguments of " + name, id, name);
    Wire.checkDepth(args.kwargs(), "arguments of " + name, id, name);
    return new Flow.Sig(
        id,
        name,
        args.args(),
        args.kwargs(),
        queue,
        priority,
        countdown,
        expires,
        headers(eff),
        MessageOptions.of(call).withFlowControl(FlowControl.limit(name, eff), eff.uniqueKey()),
        WorkflowParts.pass(s),
        null);
  }

  @Override
  public DeadLetters deadLetters() {
    return deadLetters;
  }

  @Override
  public Backend backend() {
    return backend;
  }

  private record Outgoing(TaskMessage message, NewMessage newMessage, boolean ignoreResult) {}

  /** A task's default options: those configured for its name, overridden by its definition's. */
  private TaskOptions defaultsOf(String name, TaskOptions definition) {
    if (taskOptions == null) {
      return definition;
    }
    TaskOptions configured = taskOptions.apply(name);
    return configured == null ? definition : configured.overriddenBy(definition);
  }

  private Outgoing prepare(
      String name, Arguments.Json args, TaskOptions definition, TaskOptions call) {
    TaskOptions taskDefaults = defaultsOf(name, definition);
    TaskOptions eff = taskDefaults.overriddenBy(call);
    String queue = queueFor(name, taskDefaults, call);
    int priority = eff.priority() != null ? eff.priority() : TaskOptions.DEFAULT_PRIORITY;
    Instant now = clock.instant();
    Instant eta =
        eff.eta() != null ? eff.eta() : eff.countdown() != null ? now.plus(eff.countdown()) : null;
    Instant expires =
        eff.expiresAt() != null
            ? eff.expiresAt()
            : eff.expires() != null ? now.plus(eff.expires()) : null;
    Map<String, String> headers = headers(eff);
    FlowLimit limit = FlowControl.limit(name, eff);
    String id = Ids.newId(now.toEpochMilli());
    Wire.checkDepth(args.args(), "arguments of " + name, id, name);
    Wire.checkDepth(args.kwargs(), "arguments of " + name, id, name);
    TaskMessage message =
        new TaskMessage(
            Wire.PLAIN_VERSION,
            id,
            name,
            args.args(),
            args.kwargs(),
            queue,
            priority,
            eta,
            expires,
            0,
            now,
            eff.idempotencyKey(),
            headers,
            // Only what this call set travels: the worker's own task definition supplies the rest;
            // the flow control, resolved here, travels too, for messages sent again.
            MessageOptions.of(call).withFlowControl(limit, eff.uniqueKey()));
    byte[] body = Wire.encodeMessage(message);
    if (body.length > maxMessageBytes) {
      throw new MessageTooLargeException("message", id, name, body.length, maxMessageBytes);
    }
    Duration window =
        eff.idempotencyKey() == null
            ? null
            : eff.idempotencyWindow() != null
                ? eff.idempotencyWindow()
                : TaskOptions.DEFAULT_IDEMPOTENCY_WINDOW;
    NewMessage nm =
        new NewMessage(
            id, queue, priority, body, eta, eff.idempotencyKey(), window, limit, eff.uniqueKey());
    return new Outgoing(message, nm, Boolean.TRUE.equals(eff.ignoreResult()));
  }

  private String queueFor(String name, TaskOptions taskDefaults, TaskOptions call) {
    return call.queue() != null
        ? call.queue()
        : routes
            .queueFor(name)
            .orElse(
                taskDefaults.queue() != null ? taskDefaults.queue() : TaskOptions.DEFAULT_QUEUE);
  }

  private Map<String, String> headers(TaskOptions eff) {
    Map<String, String> headers = new LinkedHashMap<>(eff.headers());
    String requestId = eff.requestId() != null ? eff.requestId() : MDC.get(requestIdMdcKey);
    if (requestId != null) {
      headers.put(TaskMessage.REQUEST_ID, requestId);
    }
    String parent = MDC.get(CallHistory.TASK_ID_MDC_KEY); // sent from inside a running task
    if (parent != null) {
      headers.putIfAbsent(CallHistory.PARENT_HEADER, parent);
    }
    return headers;
  }

  private <R> List<AsyncResult<R>> send(List<Outgoing> batch, Type resultType) {
    List<NewMessage> messages = new ArrayList<>(batch.size());
    for (Outgoing o : batch) {
      messages.add(o.newMessage());
    }
    List<EnqueueResult> results = backend.broker().enqueue(messages);
    List<AsyncResult<R>> handles = new ArrayList<>(batch.size());
    List<Event> events = sentEvents ? new ArrayList<>(batch.size()) : null;
    for (int i = 0; i < batch.size(); i++) {
      Outgoing o = batch.get(i);
      EnqueueResult r = results.get(i);
      handles.add(
          new DefaultAsyncResult<>(
              r.id(),
              resultType,
              o.ignoreResult(),
              backend.results(),
              this,
              // A duplicate's id is the first task's, which may wait in another queue.
              r.duplicate() ? null : o.newMessage().queue()));
      if (events != null && !r.duplicate()) {
        TaskMessage m = o.message();
        ObjectNode data = Wire.mapper().createObjectNode();
        data.put("priority", m.priority());
        if (m.eta() != null) data.put("eta", m.eta().toString());
        events.add(
            new Event(0, EventType.TASK_SENT, m.sentAt(), m.id(), m.task(), null, m.queue(), data));
      }
    }
    if (events != null && !events.isEmpty()) {
      backend.events().publish(events);
    }
    return handles;
  }

  private static String validSendName(String name) {
    Objects.requireNonNull(name, "taskName");
    if (name.isBlank()
        || name.length() > TaskDef.MAX_NAME_LENGTH
        || name.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(
          "task name must be 1-"
              + TaskDef.MAX_NAME_LENGTH
              + " characters without white space but was '"
              + name
              + "'");
    }
    return name;
  }
}
