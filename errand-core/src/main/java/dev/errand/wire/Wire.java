package dev.errand.wire;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.errand.DeadLetter;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.InvalidMessageException;
import dev.errand.TaskError;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes and decodes everything Errand stores or sends, as JSON. Version {@value #VERSION} of the
 * format is documented in {@code docs/wire-format.md} and pinned by golden fixture files in the
 * tests. Thread-safe.
 *
 * <p>JSON only: no Java serialization, and no value in a message ever names a class to load.
 * Unknown fields are ignored, so a newer producer can add fields without breaking older workers.
 */
public final class Wire {

  /**
   * The newest message format version this code reads and writes: {@value}. Version 2 adds the
   * {@code flow} field (workflows); a message that carries none is written as {@link
   * #PLAIN_VERSION}, so workers that read only version 1 keep running plain tasks, and dead-letter
   * (never half-run) a workflow's steps.
   */
  public static final int VERSION = 2;

  /** The version of a message without a workflow: {@value}. */
  public static final int PLAIN_VERSION = 1;

  /** The format version of a message with {@code flow} (null for none). */
  public static int versionFor(Flow flow) {
    return flow == null || flow.changesNothing() ? PLAIN_VERSION : VERSION;
  }

  /**
   * How deeply user JSON may nest: arguments, results and progress meta, {@value} levels (an array
   * or object is one level; {@code [[1]]} is two). Producers refuse deeper arguments, workers
   * dead-letter deeper messages as undecodable, and a deeper result or progress fails its task.
   * Ruby's JSON (Sidekiq) stops at the same depth; Jackson and Python stop near 1,000, and the
   * difference is the room Errand's own records need around user values, so anything accepted here
   * can always be stored.
   */
  public static final int MAX_NESTING_DEPTH = 100;

  private static final ObjectMapper MAPPER = createMapper();

  private Wire() {}

  /**
   * The shared mapper: ISO-8601 instants, unknown properties ignored, nulls omitted from Errand's
   * own records but kept in user arguments. Do not reconfigure it.
   */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  private static ObjectMapper createMapper() {
    SimpleModule errand = new SimpleModule("errand-wire");
    errand.addSerializer(EventType.class, new EventTypeSerializer());
    errand.addDeserializer(EventType.class, new EventTypeDeserializer());
    // Registered after JavaTimeModule, so these win: same text, without DateTimeFormatter.
    errand.addSerializer(java.time.Instant.class, new InstantFormat.Serializer());
    errand.addDeserializer(java.time.Instant.class, new InstantFormat.Deserializer());
    JsonMapper mapper =
        JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .addModule(errand)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .disable(MapperFeature.DEFAULT_VIEW_INCLUSION)
            .build();
    JsonInclude.Value nonNull = JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, null);
    for (Class<?> own :
        new Class<?>[] {
          TaskMessage.class,
          MessageOptions.class,
          MessageOptions.RetrySpec.class,
          TaskStatus.class,
          TaskError.class,
          DeadLetter.class,
          Event.class,
          WorkerInfo.class,
          WorkerInfo.RunningTask.class
        }) {
      mapper.configOverride(own).setInclude(nonNull);
    }
    JsonInclude.Value nonEmpty = JsonInclude.Value.construct(JsonInclude.Include.NON_EMPTY, null);
    for (Class<?> own :
        new Class<?>[] {
          Flow.class,
          Flow.Sig.class,
          Flow.Step.class,
          Flow.GroupStep.class,
          Flow.Member.class,
          Flow.Stored.class
        }) {
      mapper.configOverride(own).setInclude(nonEmpty);
    }
    return mapper;
  }

  /** Encodes a task message to UTF-8 JSON. */
  public static byte[] encodeMessage(TaskMessage message) {
    return write(message);
  }

  /**
   * Decodes and checks a task message.
   *
   * @throws InvalidMessageException saying what is wrong: not JSON, a missing or ill-typed field,
   *     or a newer format version than this code reads
   */
  public static TaskMessage decodeMessage(byte[] body) {
    JsonNode tree;
    try {
      tree = MAPPER.readTree(body);
    } catch (IOException e) {
      throw new InvalidMessageException("not valid JSON: " + firstLine(e), null, null, e);
    }
    if (tree == null || !tree.isObject()) {
      throw new InvalidMessageException("not a JSON object", null, null, null);
    }
    String id = text(tree, "id", null);
    String task = text(tree, "task", id);
    text(tree, "queue", id);
    JsonNode v = tree.get("v");
    if (v == null || !v.canConvertToInt()) {
      throw new InvalidMessageException("missing or non-numeric field 'v'", id, task, null);
    }
    if (v.intValue() > VERSION || v.intValue() < 1) {
      throw new InvalidMessageException(
          "unsupported format version "
              + v.intValue()
              + " (this worker reads 1 to "
              + VERSION
              + ")",
          id,
          task,
          null);
    }
    JsonNode args = tree.get("args");
    if (args != null && !args.isNull() && !args.isArray()) {
      throw new InvalidMessageException("field 'args' must be an array", id, task, null);
    }
    JsonNode kwargs = tree.get("kwargs");
    if (kwargs != null && !kwargs.isNull() && !kwargs.isObject()) {
      throw new InvalidMessageException("field 'kwargs' must be an object", id, task, null);
    }
    checkDepth(args, "args", id, task);
    checkDepth(kwargs, "kwargs", id, task);
    TaskMessage message;
    try {
      message = MAPPER.treeToValue(tree, TaskMessage.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new InvalidMessageException("invalid message: " + firstLine(e), id, task, e);
    }
    return checked(message);
  }

  /**
   * Checks a message built from another format as {@link #decodeMessage} checks a decoded one:
   * priority, retries, the workflow and the options.
   *
   * @return {@code message}
   * @throws InvalidMessageException saying what is wrong
   */
  public static TaskMessage checked(TaskMessage message) {
    String id = message.id();
    String task = message.task();
    if (message.priority() < 0 || message.priority() > 9) {
      throw new InvalidMessageException(
          "field 'priority' must be 0-9 but was " + message.priority(), id, task, null);
    }
    if (message.retries() < 0) {
      throw new InvalidMessageException(
          "field 'retries' must be >= 0 but was " + message.retries(), id, task, null);
    }
    if (message.flow() != null) {
      String bad = FlowCheck.problem(message.flow());
      if (bad != null) {
        throw new InvalidMessageException("invalid 'flow': " + bad, id, task, null);
      }
    }
    if (message.options() != MessageOptions.NONE) {
      try {
        // Checked here, once, so that bad options dead-letter the message on its first delivery
        // instead of failing every later step that reads them.
        message.options().toTaskOptions();
      } catch (IllegalArgumentException e) {
        throw new InvalidMessageException("invalid 'options': " + firstLine(e), id, task, e);
      }
    }
    return message;
  }

  /**
   * How deeply {@code node} nests: 0 for a scalar or null, 1 for a flat array or object, and so on.
   * Iterative, so a hostile document cannot overflow the stack.
   */
  public static int depth(JsonNode node) {
    if (node == null || !node.isContainerNode()) {
      return 0;
    }
    int max = 0;
    java.util.ArrayDeque<JsonNode> stack = new java.util.ArrayDeque<>();
    java.util.ArrayDeque<Integer> levels = new java.util.ArrayDeque<>();
    stack.push(node);
    levels.push(1);
    while (!stack.isEmpty()) {
      JsonNode n = stack.pop();
      int level = levels.pop();
      max = Math.max(max, level);
      for (JsonNode child : n) {
        if (child.isContainerNode()) {
          stack.push(child);
          levels.push(level + 1);
        }
      }
    }
    return max;
  }

  /**
   * Checks that {@code value} nests at most {@link #MAX_NESTING_DEPTH} levels.
   *
   * @param what what the value is, for the message ({@code "kwargs"}, {@code "result"})
   * @throws InvalidMessageException naming the depth found and the limit
   */
  public static void checkDepth(JsonNode value, String what, String taskId, String taskName) {
    int depth = depth(value);
    if (depth > MAX_NESTING_DEPTH) {
      throw new InvalidMessageException(
          what
              + " nest "
              + depth
              + " levels deep; at most "
              + MAX_NESTING_DEPTH
              + " are allowed (Wire.MAX_NESTING_DEPTH)",
          taskId,
          taskName,
          null);
    }
  }

  private static final com.fasterxml.jackson.core.type.TypeReference<List<Flow.Step>> STEPS =
      new com.fasterxml.jackson.core.type.TypeReference<>() {};

  /** Encodes a workflow's steps, as stored by {@link dev.errand.spi.WorkflowStore#putSteps}. */
  public static byte[] encodeSteps(List<Flow.Step> steps) {
    return write(steps);
  }

  /**
   * Decodes steps written by {@link #encodeSteps}.
   *
   * @throws InvalidMessageException if they are not
   */
  public static List<Flow.Step> decodeSteps(byte[] json) {
    try {
      return MAPPER.readValue(json, STEPS);
    } catch (IOException | IllegalArgumentException e) {
      throw new InvalidMessageException(
          "invalid stored workflow steps: " + firstLine(e), null, null, e);
    }
  }

  /** Encodes a task status. */
  public static byte[] encodeStatus(TaskStatus status) {
    return HotPathJson.status(MAPPER, status);
  }

  /** Decodes a task status written by {@link #encodeStatus}. */
  public static TaskStatus decodeStatus(byte[] json) {
    return decodeStatus(json, 0, json.length);
  }

  /**
   * Decodes the outcome of the task status in {@code json[offset, offset + length)}: its id, name,
   * state, result, error and reason, with the other fields left out where that is quicker (a status
   * the fast reader is unsure of is decoded whole).
   */
  public static TaskStatus decodeOutcome(byte[] json, int offset, int length) {
    TaskStatus fast = StatusReader.read(MAPPER, json, offset, length, true);
    return fast != null ? fast : decodeStatus(json, offset, length);
  }

  /** Decodes the task status in {@code json[offset, offset + length)}. */
  public static TaskStatus decodeStatus(byte[] json, int offset, int length) {
    TaskStatus fast = StatusReader.read(MAPPER, json, offset, length);
    if (fast != null) {
      return fast;
    }
    try {
      return MAPPER.readValue(json, offset, length, TaskStatus.class);
    } catch (IOException e) {
      throw new InvalidMessageException("invalid TaskStatus JSON: " + firstLine(e), null, null, e);
    }
  }

  /** Encodes a dead letter. */
  public static byte[] encodeDeadLetter(DeadLetter deadLetter) {
    return write(deadLetter);
  }

  /** Decodes a dead letter written by {@link #encodeDeadLetter}. */
  public static DeadLetter decodeDeadLetter(byte[] json) {
    return read(json, DeadLetter.class);
  }

  /** Encodes an event. */
  public static byte[] encodeEvent(Event event) {
    return HotPathJson.event(MAPPER, event);
  }

  /**
   * Encodes events {@code from} to {@code to} (exclusive), each with sequence number 0, one per
   * line: what {@link #encodeEvent} writes for each, joined by newlines, without a copy per event.
   */
  public static byte[] encodeEventLines(List<Event> events, int from, int to) {
    return HotPathJson.eventLines(MAPPER, events, from, to);
  }

  /** Decodes an event written by {@link #encodeEvent}. */
  public static Event decodeEvent(byte[] json) {
    return read(json, Event.class);
  }

  /** Encodes a worker heartbeat. */
  public static byte[] encodeWorker(WorkerInfo info) {
    return write(info);
  }

  /** Decodes a worker heartbeat written by {@link #encodeWorker}. */
  public static WorkerInfo decodeWorker(byte[] json) {
    return read(json, WorkerInfo.class);
  }

  /** The body as text for display and dead letters: UTF-8, or a note if it is not text. */
  public static String bodyText(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8);
    if (text.indexOf('\uFFFD') >= 0) {
      return "(" + body.length + " bytes, not UTF-8 text)";
    }
    return text;
  }

  private static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T read(byte[] json, Class<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (IOException e) {
      throw new InvalidMessageException(
          "invalid " + type.getSimpleName() + " JSON: " + firstLine(e), null, null, e);
    }
  }

  private static String text(JsonNode tree, String field, String id) {
    JsonNode n = tree.get(field);
    if (n == null || !n.isTextual() || n.textValue().isEmpty()) {
      throw new InvalidMessageException(
          "missing or non-text field '" + field + "'", id, null, null);
    }
    return n.textValue();
  }

  static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static final class EventTypeSerializer extends JsonSerializer<EventType> {
    @Override
    public void serialize(EventType value, JsonGenerator gen, SerializerProvider serializers)
        throws IOException {
      gen.writeString(value.wireName());
    }
  }

  private static final class EventTypeDeserializer extends JsonDeserializer<EventType> {
    @Override
    public EventType deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      try {
        return EventType.fromWireName(p.getValueAsString());
      } catch (IllegalArgumentException e) {
        throw ctxt.weirdStringException(p.getValueAsString(), EventType.class, e.getMessage());
      }
    }
  }
}
