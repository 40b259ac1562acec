package dev.errand.redis.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.errand.wire.CallHistory;
import dev.errand.wire.Flow;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Celery 5 task messages (protocol v2, as kombu writes them on Redis) to and from Errand's message
 * format. A Celery envelope becomes the JSON of an Errand {@link TaskMessage}, which the worker
 * decodes as any other; what Errand has no field for (the canvas in the body's {@code embed},
 * {@code root_id}, {@code group}, custom headers) travels in headers named {@code celery.*}, and
 * what Celery has no field for (retry policy, Errand workflows) in one {@code errand} header that
 * Celery workers ignore. Stateless and thread-safe.
 */
public final class CeleryWire {

  /** kombu's separator between a queue name and its priority step. */
  public static final String SEP = "\u0006\u0016";

  /** Header holding the JSON of the body's {@code embed} (callbacks, errbacks, chain, chord). */
  public static final String EMBED = "celery.embed";

  /** Header holding the task's Celery {@code root_id}. */
  public static final String ROOT_ID = "celery.root_id";

  /** Header holding the task's Celery {@code group} id. */
  public static final String GROUP = "celery.group";

  /** Header holding the task's Celery {@code group_index} (chord position). */
  public static final String GROUP_INDEX = "celery.group_index";

  /** Header holding the task's Celery {@code shadow} name. */
  public static final String SHADOW = "celery.shadow";

  /** Header holding, as a JSON object, the Celery headers Errand has no field for. */
  public static final String OTHER_HEADERS = "celery.headers";

  /** The envelope header that carries what only Errand reads. */
  static final String ERRAND_HEADER = "errand";

  /** Headers of protocol v2 that map to Errand fields, or are recomputed when sent. */
  private static final Set<String> KNOWN_HEADERS =
      Set.of(
          "lang",
          "task",
          "id",
          "shadow",
          "eta",
          "expires",
          "group",
          "group_index",
          "retries",
          "timelimit",
          "root_id",
          "parent_id",
          "argsrepr",
          "kwargsrepr",
          "origin",
          "ignore_result",
          "redelivered",
          ERRAND_HEADER);

  private static final Pattern CELERY_TIME =
      Pattern.compile(
          "(\\d{4})-(\\d{2})-(\\d{2})[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?"
              + "(Z|[+-]\\d{2}:?\\d{2})?");

  private static final DateTimeFormatter SEND_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static final String ORIGIN = "errand" + ProcessHandle.current().pid() + "@" + hostName();

  /** Envelopes larger than this are dead-lettered unread: 64 MiB. */
  public static final int MAX_ENVELOPE_BYTES = 64 * 1024 * 1024;

  /** The largest {@code argsrepr} sent, in characters (Celery's own default is 1024). */
  static final int MAX_REPR = 1024;

  private CeleryWire() {}

  /** A Celery message that cannot be run, with why; ids are null when unreadable. */
  public static final class Malformed extends Exception {
    private final String taskId;
    private final String taskName;

    Malformed(String reason, String taskId, String taskName) {
      super(reason, null, false, false);
      this.taskId = taskId;
      this.taskName = taskName;
    }

    /** The task id, when the envelope had a readable one. */
    public String taskId() {
      return taskId;
    }

    /** The task name, when the envelope had a readable one. */
    public String taskName() {
      return taskName;
    }
  }

  /**
   * What was read from a Celery envelope.
   *
   * @param id the task id
   * @param task the task name
   * @param message the Errand message, checked as {@link Wire#decodeMessage} checks one
   * @param errandPriority the priority on Errand's scale (9 most urgent)
   * @param eta not before this time, or null
   */
  public record Read(
      String id, String task, TaskMessage message, int errandPriority, Instant eta) {}

  /**
   * Reads a Celery envelope popped from {@code queue}.
   *
   * @throws Malformed saying what is wrong, in words an operator can act on
   */
  public static Read read(byte[] raw, String queue) throws Malformed {
    if (raw.length > MAX_ENVELOPE_BYTES) {
      // Not parsed at all: a worker's own limit (1 MiB by default) would refuse it anyway, and a
      // tree of it could take the worker's memory.
      throw new Malformed(
          "an envelope of "
              + raw.length
              + " bytes is larger than "
              + MAX_ENVELOPE_BYTES
              + " and is not read",
          null,
          null);
    }
    JsonNode env;
    try {
      env = Wire.mapper().readTree(raw);
    } catch (IOException e) {
      throw new Malformed("the envelope is not JSON: " + firstLine(e), null, null);
    }
    if (env == null || !env.isObject()) {
      throw new Malformed("the envelope is not a JSON object", null, null);
    }
    JsonNode headers = env.get("headers");
    JsonNode props = env.get("properties");
    String id =
        headers != null && headers.path("id").isTextual() ? headers.get("id").asText() : null;
    String task =
        headers != null && headers.path("task").isTextual() ? headers.get("task").asText() : null;
    if (headers == null || !headers.isObject()) {
      throw new Malformed(
          "the envelope has no 'headers' object (Celery protocol 1 is not supported: send with"
              + " task_protocol 2, Celery's default since 4.0)",
          null,
          null);
    }
    if (id == null || id.isEmpty() || id.length() > 255) {
      throw new Malformed(
          "headers.id must be a non-empty string of at most 255 characters", null, task);
    }
    if (task == null || task.isEmpty()) {
      throw new Malformed("headers.task must be a non-empty string", id, null);
    }
    if (props == null || !props.isObject()) {
      throw new Malformed("the envelope has no 'properties' object", id, task);
    }
    String contentType = env.path("content-type").asText("application/json");
    if (!contentType.equals("application/json")) {
      throw new Malformed(
          "content type '"
              + contentType
              + "' is refused: Errand reads JSON only (never pickle, yaml or msgpack; set"
              + " task_serializer='json' on the Celery side)",
          id,
          task);
    }
    String encoding = env.path("content-encoding").asText("utf-8").toLowerCase(Locale.ROOT);
    if (!encoding.equals("utf-8") && !encoding.equals("utf8")) {
      throw new Malformed("content encoding '" + encoding + "' is not utf-8", id, task);
    }
    JsonNode bodyField = env.get("body");
    if (bodyField == null || !bodyField.isTextual()) {
      throw new Malformed("the envelope's 'body' is not a string", id, task);
    }
    String bodyEncoding = props.path("body_encoding").asText("");
    byte[] bodyBytes;
    if (bodyEncoding.equals("base64")) {
      try {
        bodyBytes = Base64.getDecoder().decode(bodyField.asText().strip());
      } catch (IllegalArgumentException e) {
        throw new Malformed("the body is not valid base64: " + e.getMessage(), id, task);
      }
    } else if (bodyEncoding.isEmpty()) {
      bodyBytes = bodyField.asText().getBytes(StandardCharsets.UTF_8);
    } else {
      throw new Malformed("body encoding '" + bodyEncoding + "' is not supported", id, task);
    }
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bodyBytes));
    } catch (CharacterCodingException e) {
      throw new Malformed("the body is not UTF-8 text", id, task);
    }
    JsonNode body;
    try {
      body = Wire.mapper().readTree(bodyBytes);
    } catch (IOException e) {
      throw new Malformed("the body is not JSON: " + firstLine(e), id, task);
    }
    if (body == null || !body.isArray() || body.size() != 3) {
      throw new Malformed(
          "the body must be the JSON array [args, kwargs, embed] (protocol 2) but was "
              + describe(body),
          id,
          task);
    }
    JsonNode args = body.get(0);
    JsonNode kwargs = body.get(1);
    JsonNode embed = body.get(2);
    if (!args.isArray()) {
      throw new Malformed("args (body[0]) must be an array but was " + describe(args), id, task);
    }
    if (!kwargs.isObject()) {
      throw new Malformed(
          "kwargs (body[1]) must be an object but was " + describe(kwargs), id, task);
    }
    if (!embed.isObject() && !embed.isNull()) {
      throw new Malformed("embed (body[2]) must be an object but was " + describe(embed), id, task);
    }
    if (Wire.depth(args) > Wire.MAX_NESTING_DEPTH || Wire.depth(kwargs) > Wire.MAX_NESTING_DEPTH) {
      throw new Malformed("the arguments nest deeper than " + Wire.MAX_NESTING_DEPTH, id, task);
    }
    Instant eta = time(headers, "eta", id, task);
    Instant expires = time(headers, "expires", id, task);
    int retries = 0;
    JsonNode r = headers.get("retries");
    if (r != null && !r.isNull()) {
      if (!r.canConvertToInt() || r.intValue() < 0) {
        throw new Malformed("headers.retries must be an integer >= 0 but was " + r, id, task);
      }
      retries = r.intValue();
    }
    int celeryPriority = 0;
    JsonNode p = props.get("priority");
    if (p != null && !p.isNull()) {
      if (!p.isNumber()) {
        throw new Malformed("properties.priority must be a number but was " + p, id, task);
      }
      celeryPriority = Math.max(0, Math.min(9, p.intValue()));
    }
    int errandPriority = toErrand(celeryPriority);
    JsonNode errandHeader = headers.get(ERRAND_HEADER);
    if (errandHeader != null && errandHeader.path("priority").canConvertToInt()) {
      int own = errandHeader.get("priority").intValue();
      if (own >= 0 && own <= 9 && toCelery(own) == celeryPriority) {
        errandPriority = own; // sent by Errand above the default, which Celery cannot tell apart
      }
    }

    JsonNode timelimit = headers.get("timelimit");
    Long hard = null;
    Long soft = null;
    if (timelimit != null && timelimit.isArray()) {
      hard = seconds(timelimit.get(0), "hard", id, task);
      soft = seconds(timelimit.get(1), "soft", id, task);
    } else if (timelimit != null && !timelimit.isNull()) {
      throw new Malformed("headers.timelimit must be [hard, soft] but was " + timelimit, id, task);
    }
    boolean ignore = headers.path("ignore_result").asBoolean(false);
    JsonNode errand = errandHeader != null && errandHeader.isObject() ? errandHeader : null;
    ObjectNode options = null;
    if (errand != null && errand.path("options").isObject()) {
      options = ((ObjectNode) errand.get("options")).deepCopy();
    }
    if (ignore || hard != null || soft != null) {
      options = options == null ? JsonNodeFactory.instance.objectNode() : options;
      if (ignore) {
        options.put("ignoreResult", true);
      }
      if (hard != null) {
        options.put("hardTimeLimitMs", hard);
      }
      if (soft != null) {
        options.put("softTimeLimitMs", soft);
      }
    }
    Map<String, String> h = new LinkedHashMap<>();
    if (errand != null && errand.path("headers").isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = errand.get("headers").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getValue().isTextual()) {
          h.put(e.getKey(), e.getValue().asText());
        }
      }
    }
    putText(h, headers, "root_id", ROOT_ID);
    putText(h, headers, "parent_id", CallHistory.PARENT_HEADER);
    putText(h, headers, "group", GROUP);
    putText(h, headers, "shadow", SHADOW);
    JsonNode gi = headers.get("group_index");
    if (gi != null && gi.canConvertToInt()) {
      h.put(GROUP_INDEX, Integer.toString(gi.intValue()));
    }
    if (embed.isObject() && hasAny(embed)) {
      h.put(EMBED, embed.toString());
    }
    ObjectNode other = null;
    for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!KNOWN_HEADERS.contains(e.getKey())) {
        other = other == null ? JsonNodeFactory.instance.objectNode() : other;
        other.set(e.getKey(), e.getValue());
      }
    }
    if (other != null) {
      h.put(OTHER_HEADERS, other.toString());
    }
    int v = Wire.PLAIN_VERSION;
    Instant sentAt = null;
    String idempotencyKey = null;
    MessageOptions messageOptions = MessageOptions.NONE;
    Flow flow = null;
    try {
      if (errand != null) {
        // Sent by Errand: its own fields come back as they were, checked below as Wire checks them.
        v = errand.path("v").canConvertToInt() ? errand.get("v").intValue() : v;
        sentAt =
            errand.path("sentAt").isTextual() ? Instant.parse(errand.get("sentAt").asText()) : null;
        idempotencyKey =
            errand.path("idempotencyKey").isTextual()
                ? errand.get("idempotencyKey").asText()
                : null;
        if (errand.path("flow").isObject()) {
          flow = Wire.mapper().treeToValue(errand.get("flow"), Flow.class);
        }
      }
      if (options != null) {
        messageOptions = Wire.mapper().treeToValue(options, MessageOptions.class);
      }
      if (v < 1 || v > Wire.VERSION) {
        throw new Malformed("unsupported Errand format version " + v, id, task);
      }
      TaskMessage message =
          new TaskMessage(
              v,
              id,
              task,
              (ArrayNode) untag(args),
              (ObjectNode) untag(kwargs),
              queue,
              errandPriority,
              eta,
              expires,
              retries,
              sentAt,
              idempotencyKey,
              h,
              messageOptions,
              flow);
      return new Read(id, task, Wire.checked(message), errandPriority, eta);
    } catch (dev.errand.InvalidMessageException e) {
      throw new Malformed(e.getMessage(), id, task);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new Malformed(
          "invalid Errand fields in the 'errand' header: " + firstLine(e), id, task);
    }
  }

  private static void putText(Map<String, String> to, JsonNode from, String field, String header) {
    JsonNode v = from.get(field);
    if (v != null && v.isTextual()) {
      to.put(header, v.asText());
    }
  }

  /**
   * The Celery envelope of an Errand message, as a stock Celery 5 worker reads it.
   *
   * @param message the message
   * @param deliveryTag a fresh delivery tag
   * @param now the time the message is sent, for {@code properties.expiration}
   */
  public static byte[] write(TaskMessage message, String deliveryTag, Instant now) {
    Map<String, String> h = message.headers();
    ObjectNode env = JsonNodeFactory.instance.objectNode();
    ArrayNode body = JsonNodeFactory.instance.arrayNode(3);
    body.add(message.args());
    body.add(message.kwargs());
    JsonNode chain = h.get(EMBED) == null ? celeryCanvas(message.flow()) : null;
    body.add(chain != null ? chain : embed(h.get(EMBED)));
    byte[] bodyBytes;
    try {
      bodyBytes = Wire.mapper().writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot encode the arguments: " + e.getMessage(), e);
    }
    env.put("body", Base64.getEncoder().encodeToString(bodyBytes));
    env.put("content-encoding", "utf-8");
    env.put("content-type", "application/json");
    ObjectNode headers = env.putObject("headers");
    String other = h.get(OTHER_HEADERS);
    if (other != null) {
      try {
        JsonNode o = Wire.mapper().readTree(other);
        if (o != null && o.isObject()) {
          headers.setAll((ObjectNode) o);
        }
      } catch (IOException e) {
        // a header that is not JSON is dropped rather than failing the send
      }
    }
    headers.put("lang", "java");
    headers.put("task", message.task());
    headers.put("id", message.id());
    putOrNull(headers, "shadow", h.get(SHADOW));
    putOrNull(headers, "eta", message.eta() == null ? null : formatTime(message.eta()));
    putOrNull(headers, "expires", message.expires() == null ? null : formatTime(message.expires()));
    putOrNull(headers, "group", h.get(GROUP));
    String gi = h.get(GROUP_INDEX);
    if (gi != null && gi.matches("\\d{1,9}")) {
      headers.put("group_index", Integer.parseInt(gi));
    } else {
      headers.putNull("group_index");
    }
    headers.put("retries", message.retries());
    ArrayNode timelimit = headers.putArray("timelimit");
    Long hard = message.options().hardTimeLimitMs();
    Long soft = message.options().softTimeLimitMs();
    addSeconds(timelimit, hard);
    addSeconds(timelimit, soft);
    String root = h.get(ROOT_ID);
    headers.put("root_id", root == null ? message.id() : root);
    putOrNull(headers, "parent_id", h.get(CallHistory.PARENT_HEADER));
    headers.put("argsrepr", repr(message.args()));
    headers.put("kwargsrepr", repr(message.kwargs()));
    headers.put("origin", ORIGIN);
    headers.put("ignore_result", Boolean.TRUE.equals(message.options().ignoreResult()));
    ObjectNode errand = errandOnly(message, chain != null);
    if (errand != null) {
      headers.set(ERRAND_HEADER, errand);
    }
    int celeryPriority = toCelery(message.priority());
    ObjectNode props = env.putObject("properties");
    props.put("correlation_id", message.id());
    props.put("reply_to", "");
    props.put("delivery_mode", 2);
    ObjectNode info = props.putObject("delivery_info");
    info.put("exchange", "");
    info.put("routing_key", message.queue());
    props.put("priority", celeryPriority);
    props.put("body_encoding", "base64");
    props.put("delivery_tag", deliveryTag);
    if (message.expires() != null) {
      long ms = Math.max(0, now.until(message.expires(), ChronoUnit.MILLIS));
      props.put("expiration", Long.toString(ms));
    }
    try {
      return Wire.mapper().writeValueAsBytes(env);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code t} sent to {@code queue} at {@code priority}, not before {@code eta}. */
  static TaskMessage routed(TaskMessage t, String queue, int priority, Instant eta) {
    return new TaskMessage(
        t.v(),
        t.id(),
        t.task(),
        t.args(),
        t.kwargs(),
        queue,
        priority,
        eta,
        t.expires(),
        t.retries(),
        t.sentAt(),
        t.idempotencyKey(),
        t.headers(),
        t.options(),
        t.flow());
  }

  /** A new delivery tag, as kombu makes them (a UUID4). */
  public static String newTag() {
    return UUID.randomUUID().toString();
  }

  /**
   * Errand's priority (0-9, 9 most urgent, default 5) as Celery-on-Redis's (0-9, 0 most urgent,
   * default 0): default to default. Errand 5-9 share Celery's most urgent list, 4 and 3 its list 3,
   * 2 and 1 its list 6, 0 its list 9.
   */
  public static int toCelery(int errandPriority) {
    return errandPriority >= 5 ? 0 : new int[] {9, 8, 6, 5, 3}[Math.max(0, errandPriority)];
  }

  /** Celery-on-Redis's priority as Errand's: the inverse of {@link #toCelery} (0-2 are 5). */
  public static int toErrand(int celeryPriority) {
    int c = Math.max(0, Math.min(9, celeryPriority));
    return c <= 2 ? 5 : c == 3 ? 4 : c <= 5 ? 3 : c == 6 ? 2 : c <= 8 ? 1 : 0;
  }

  /** The list a message of Celery priority {@code p} (0 most urgent) goes to. */
  public static String bucketKey(String queue, int celeryPriority) {
    int step = celeryPriority >= 9 ? 9 : celeryPriority >= 6 ? 6 : celeryPriority >= 3 ? 3 : 0;
    return step == 0 ? queue : queue + SEP + step;
  }

  /** The four lists of {@code queue}, most urgent first. */
  public static String[] bucketKeys(String queue) {
    return new String[] {queue, queue + SEP + 3, queue + SEP + 6, queue + SEP + 9};
  }

  /**
   * Formats an instant as Celery 5.2 parses it: UTC with six fraction digits and {@code +00:00}
   * (Celery reads the fraction as a count of microseconds, so three or nine digits go wrong).
   */
  public static String formatTime(Instant t) {
    return SEND_TIME.format(t.truncatedTo(ChronoUnit.MICROS));
  }

  /**
   * Parses a Celery time: ISO 8601 with an optional fraction (any number of digits up to nine, read
   * as a fraction of a second) and offset ({@code Z}, {@code +HH:MM}; none means UTC, Celery's
   * default timezone).
   *
   * @throws IllegalArgumentException naming the text
   */
  public static Instant parseTime(String text) {
    Matcher m = CELERY_TIME.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not an ISO 8601 time");
    }
    try {
      int nanos = 0;
      if (m.group(7) != null) {
        String f = (m.group(7) + "000000000").substring(0, 9);
        nanos = Integer.parseInt(f);
      }
      LocalDateTime local =
          LocalDateTime.of(
              Integer.parseInt(m.group(1)),
              Integer.parseInt(m.group(2)),
              Integer.parseInt(m.group(3)),
              Integer.parseInt(m.group(4)),
              Integer.parseInt(m.group(5)),
              m.group(6) == null ? 0 : Integer.parseInt(m.group(6)),
              nanos);
      String off = m.group(8);
      ZoneOffset offset =
          off == null || off.equals("Z")
              ? ZoneOffset.UTC
              : ZoneOffset.of(
                  off.length() == 5 ? off.substring(0, 3) + ":" + off.substring(3) : off);
      return local.toInstant(offset);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a valid time: " + e.getMessage(), e);
    }
  }

  /**
   * Replaces kombu 5.3's type tags ({@code {"__type__": "datetime", "__value__": "..."}}) by plain
   * values, as kombu 5.2 sends them: times, decimals and bytes as text, UUIDs as their usual text.
   */
  static JsonNode untag(JsonNode node) {
    if (node.isObject()) {
      if (node.size() == 2 && node.has("__type__") && node.has("__value__")) {
        JsonNode v = node.get("__value__");
        if (v.isObject() && v.has("hex")) {
          String hex = v.get("hex").asText();
          if (hex.length() == 32) {
            return TextNode.valueOf(
                hex.substring(0, 8)
                    + "-"
                    + hex.substring(8, 12)
                    + "-"
                    + hex.substring(12, 16)
                    + "-"
                    + hex.substring(16, 20)
                    + "-"
                    + hex.substring(20));
          }
        }
        return v.isValueNode() ? v : untag(v);
      }
      ObjectNode copy = null;
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode u = untag(e.getValue());
        if (u != e.getValue()) {
          if (copy == null) {
            copy = ((ObjectNode) node).deepCopy();
          }
          copy.set(e.getKey(), u);
        }
      }
      return copy == null ? node : copy;
    }
    if (node.isArray()) {
      ArrayNode copy = null;
      for (int i = 0; i < node.size(); i++) {
        JsonNode u = untag(node.get(i));
        if (u != node.get(i)) {
          if (copy == null) {
            copy = ((ArrayNode) node).deepCopy();
          }
          copy.set(i, u);
        }
      }
      return copy == null ? node : copy;
    }
    return node;
  }

  private static ObjectNode errandOnly(TaskMessage message, boolean flowAsCanvas) {
    ObjectNode e = JsonNodeFactory.instance.objectNode();
    if (message.v() != Wire.PLAIN_VERSION) {
      e.put("v", message.v());
    }
    if (message.sentAt() != null) {
      e.put("sentAt", message.sentAt().toString());
    }
    if (message.idempotencyKey() != null) {
      e.put("idempotencyKey", message.idempotencyKey());
    }
    if (toErrand(toCelery(message.priority())) != message.priority()) {
      e.put("priority", message.priority());
    }
    JsonNode options = Wire.mapper().valueToTree(message.options());
    // Time limits and ignore_result travel in Celery's own headers.
    ((ObjectNode) options)
        .remove(java.util.List.of("softTimeLimitMs", "hardTimeLimitMs", "ignoreResult"));
    if (!options.isEmpty()) {
      e.set("options", options);
    }
    if (message.flow() != null && !flowAsCanvas) {
      e.set("flow", Wire.mapper().valueToTree(message.flow()));
    }
    Map<String, String> own = new HashMap<>();
    for (Map.Entry<String, String> h : message.headers().entrySet()) {
      if (!h.getKey().startsWith("celery.") && !h.getKey().equals(CallHistory.PARENT_HEADER)) {
        own.put(h.getKey(), h.getValue());
      }
    }
    if (!own.isEmpty()) {
      e.set("headers", Wire.mapper().valueToTree(own));
    }
    return e.isEmpty() ? null : e;
  }

  /**
   * An Errand workflow as Celery's canvas, when Celery can carry it: a chain of tasks (each given
   * the previous result, or nothing) and success callbacks. Then a Celery worker runs the next step
   * as an Errand worker would. Groups, chords, error callbacks (Errand hands them the failed task's
   * record, Celery its id) and chains stored in the backend cannot: null, and the flow stays
   * Errand's, which only Errand workers run.
   */
  static ObjectNode celeryCanvas(Flow flow) {
    if (flow == null
        || flow.stored() != null
        || flow.member() != null
        || flow.chordOf() != null
        || !flow.linkError().isEmpty()) {
      return null;
    }
    ArrayNode chain = JsonNodeFactory.instance.arrayNode();
    for (int i = flow.next().size() - 1; i >= 0; i--) {
      Flow.Step step = flow.next().get(i);
      ObjectNode sig = step.sig() == null ? null : signature(step.sig());
      if (sig == null) {
        return null;
      }
      chain.add(sig);
    }
    ArrayNode callbacks = JsonNodeFactory.instance.arrayNode();
    for (Flow.Sig link : flow.link()) {
      ObjectNode sig = signature(link);
      if (sig == null) {
        return null;
      }
      callbacks.add(sig);
    }
    ObjectNode e = JsonNodeFactory.instance.objectNode();
    e.set("callbacks", callbacks.isEmpty() ? e.nullNode() : callbacks);
    e.putNull("errbacks");
    e.set("chain", chain.isEmpty() ? e.nullNode() : chain);
    e.putNull("chord");
    return e;
  }

  private static ObjectNode signature(Flow.Sig s) {
    if (s.pass() != null && !s.pass().equals(Flow.Pass.ARGS)) {
      return null; // passing the result as a keyword, or merged: Celery only prepends
    }
    ObjectNode options = JsonNodeFactory.instance.objectNode();
    options.put("task_id", s.id());
    options.put("queue", s.queue());
    options.put("priority", toCelery(s.priority()));
    if (s.countdownMs() != null) {
      options.put("countdown", s.countdownMs() / 1000.0);
    }
    if (s.expiresMs() != null) {
      options.put("expires", s.expiresMs() / 1000.0);
    }
    if (s.options().softTimeLimitMs() != null) {
      options.put("soft_time_limit", s.options().softTimeLimitMs() / 1000.0);
    }
    if (s.options().hardTimeLimitMs() != null) {
      options.put("time_limit", s.options().hardTimeLimitMs() / 1000.0);
    }
    if (s.flow() != null) {
      ObjectNode own = celeryCanvas(s.flow());
      if (own == null || !own.get("chain").isNull()) {
        return null;
      }
      if (!own.get("callbacks").isNull()) {
        options.set("link", own.get("callbacks"));
      }
    }
    ObjectNode sig = JsonNodeFactory.instance.objectNode();
    sig.put("task", s.task());
    sig.set("args", s.args());
    sig.set("kwargs", s.kwargs());
    sig.set("options", options);
    sig.putNull("subtask_type");
    sig.put("immutable", s.pass() == null);
    return sig;
  }

  private static JsonNode embed(String json) {
    if (json != null) {
      try {
        JsonNode e = Wire.mapper().readTree(json);
        if (e != null && e.isObject()) {
          return e;
        }
      } catch (IOException e) {
        // fall through to an empty embed
      }
    }
    ObjectNode e = JsonNodeFactory.instance.objectNode();
    e.putNull("callbacks");
    e.putNull("errbacks");
    e.putNull("chain");
    e.putNull("chord");
    return e;
  }

  private static boolean hasAny(JsonNode embed) {
    for (JsonNode v : embed) {
      if (!v.isNull() && !(v.isContainerNode() && v.isEmpty())) {
        return true;
      }
    }
    return false;
  }

  private static Instant time(JsonNode headers, String field, String id, String task)
      throws Malformed {
    JsonNode v = headers.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new Malformed(
          "headers." + field + " must be an ISO 8601 string but was " + v, id, task);
    }
    try {
      return parseTime(v.asText());
    } catch (IllegalArgumentException e) {
      throw new Malformed("headers." + field + ": " + e.getMessage(), id, task);
    }
  }

  private static Long seconds(JsonNode v, String which, String id, String task) throws Malformed {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber() || v.doubleValue() <= 0 || v.doubleValue() > 366 * 86_400) {
      throw new Malformed(
          "headers.timelimit: the "
              + which
              + " limit must be a positive number of seconds but was "
              + v,
          id,
          task);
    }
    return Math.max(1, Math.round(v.doubleValue() * 1000));
  }

  private static void addSeconds(ArrayNode a, Long ms) {
    if (ms == null) {
      a.addNull();
    } else if (ms % 1000 == 0) {
      a.add(ms / 1000);
    } else {
      a.add(ms / 1000.0);
    }
  }

  private static void putOrNull(ObjectNode o, String field, String value) {
    if (value == null) {
      o.putNull(field);
    } else {
      o.put(field, value);
    }
  }

  private static String repr(JsonNode v) {
    String s = v.toString();
    return s.length() <= MAX_REPR ? s : s.substring(0, MAX_REPR - 3) + "...";
  }

  private static String describe(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "missing";
    }
    if (n.isArray()) {
      return "an array of " + n.size();
    }
    if (n.isNull()) {
      return "null";
    }
    return n.isObject() ? "an object" : "a " + n.getNodeType().toString().toLowerCase(Locale.ROOT);
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException | RuntimeException e) {
      return "localhost";
    }
  }
}
