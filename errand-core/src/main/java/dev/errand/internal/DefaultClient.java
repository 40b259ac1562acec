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
import dev.errand.spi.NewMessage;
import dev.errand.wire.Arguments;
import dev.errand.wire.CallHistory;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.lang.reflect.Type;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
  private final DeadLetters deadLetters;

  public DefaultClient(
      Backend backend,
      Routes routes,
      Clock clock,
      int maxMessageBytes,
      Duration revokeTtl,
      String requestIdMdcKey,
      boolean sentEvents) {
    this.backend = backend;
    this.routes = routes;
    this.clock = clock;
    this.maxMessageBytes = maxMessageBytes;
    this.revokeTtl = revokeTtl;
    this.requestIdMdcKey = requestIdMdcKey;
    this.sentEvents = sentEvents;
    this.deadLetters = new DefaultDeadLetters(backend, clock);
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
      try {
        json = Arguments.encode(task, arguments.get(i));
      } catch (IllegalArgumentException e) {
        // Every argument is checked before any is sent, so a refused batch sends nothing.
        throw n == 1
            ? e
            : new IllegalArgumentException(
                "argument " + i + " of " + n + " (none sent): " + e.getMessage(), e);
      }
      batch.add(prepare(task.name(), json, task.options(), options));
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
    TaskStatus current = backend.results().get(id).orElseGet(() -> TaskStatus.pending(id));
    if (current.state().isReady()) {
      return false;
    }
    backend.results().revoke(id, revokeTtl);
    // Running tasks are stopped by their worker, which records the final state; for tasks not
    // yet started, record REVOKED now so waiters learn at once.
    if (current.state() != TaskState.STARTED && current.state() != TaskState.PROGRESS) {
      Instant now = clock.instant();
      backend
          .results()
          .put(current.withReason("revoked").withState(TaskState.REVOKED, now), revokeTtl);
      backend
          .events()
          .publish(
              List.of(
                  new Event(
                      0,
                      EventType.TASK_REVOKED,
                      now,
                      id,
                      current.name(),
                      null,
                      current.queue(),
                      null)));
    }
    return true;
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

  private Outgoing prepare(
      String name, Arguments.Json args, TaskOptions taskDefaults, TaskOptions call) {
    TaskOptions eff = taskDefaults.overriddenBy(call);
    String queue =
        call.queue() != null
            ? call.queue()
            : routes
                .queueFor(name)
                .orElse(
                    taskDefaults.queue() != null
                        ? taskDefaults.queue()
                        : TaskOptions.DEFAULT_QUEUE);
    int priority = eff.priority() != null ? eff.priority() : TaskOptions.DEFAULT_PRIORITY;
    Instant now = clock.instant();
    Instant eta =
        eff.eta() != null ? eff.eta() : eff.countdown() != null ? now.plus(eff.countdown()) : null;
    Instant expires =
        eff.expiresAt() != null
            ? eff.expiresAt()
            : eff.expires() != null ? now.plus(eff.expires()) : null;
    Map<String, String> headers = new LinkedHashMap<>(eff.headers());
    String requestId = eff.requestId() != null ? eff.requestId() : MDC.get(requestIdMdcKey);
    if (requestId != null) {
      headers.put(TaskMessage.REQUEST_ID, requestId);
    }
    String parent = MDC.get(CallHistory.TASK_ID_MDC_KEY); // sent from inside a running task
    if (parent != null) {
      headers.putIfAbsent(CallHistory.PARENT_HEADER, parent);
    }
    String id = Ids.newId(now.toEpochMilli());
    Wire.checkDepth(args.args(), "arguments of " + name, id, name);
    Wire.checkDepth(args.kwargs(), "arguments of " + name, id, name);
    TaskMessage message =
        new TaskMessage(
            Wire.VERSION,
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
            // Only what this call set travels: the worker's own task definition supplies the rest.
            MessageOptions.of(call));
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
    NewMessage nm = new NewMessage(id, queue, priority, body, eta, eff.idempotencyKey(), window);
    return new Outgoing(message, nm, Boolean.TRUE.equals(eff.ignoreResult()));
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
