package dev.errand.wire;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskError;
import dev.errand.TaskStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a message carries about its call beyond its arguments: the task that sent it ({@value
 * #PARENT_HEADER}) and the attempts that ended in a retry ({@value #RETRIES_HEADER}, JSON). They
 * travel in headers, so any worker that runs a retry can show the whole history without reading the
 * previous status first. Thread-safe.
 */
public final class CallHistory {

  /** Header with the id of the task whose handler sent this one. */
  public static final String PARENT_HEADER = "errand-parent";

  /** Header with the earlier attempts that ended in a retry, as a JSON array. */
  public static final String RETRIES_HEADER = "errand-retries";

  /** The MDC key a worker puts the running task's id under, read to find a parent. */
  public static final String TASK_ID_MDC_KEY = "taskId";

  /** The longest error message kept per retry, in characters. */
  static final int MAX_MESSAGE = 500;

  private static final TypeReference<List<TaskStatus.Retry>> RETRIES = new TypeReference<>() {};

  private CallHistory() {}

  /** The message's arguments as {@code {"args": [...], "kwargs": {...}}}. */
  public static JsonNode arguments(TaskMessage m) {
    ObjectNode o = Wire.mapper().createObjectNode();
    o.set("args", m.args());
    o.set("kwargs", m.kwargs());
    return o;
  }

  /** The sending task's id, or null. */
  public static String parent(TaskMessage m) {
    return m.headers().get(PARENT_HEADER);
  }

  /** The earlier attempts that ended in a retry, oldest first; null if none or unreadable. */
  public static List<TaskStatus.Retry> retries(TaskMessage m) {
    String json = m.headers().get(RETRIES_HEADER);
    if (json == null) {
      return null;
    }
    try {
      return Wire.mapper().readValue(json, RETRIES);
    } catch (Exception e) {
      return null; // history is for people to read; a bad header must not fail the task
    }
  }

  /**
   * The message to send for the next attempt: {@link TaskMessage#forRetry} plus this attempt's
   * error in the history (the newest {@value TaskStatus#MAX_RETRIES_KEPT} are kept, messages cut to
   * {@value #MAX_MESSAGE} characters, tracebacks left out).
   */
  public static TaskMessage forRetry(TaskMessage m, Instant eta, TaskError error, Instant now) {
    List<TaskStatus.Retry> history = retries(m);
    List<TaskStatus.Retry> next = history == null ? new ArrayList<>() : new ArrayList<>(history);
    String message = error.message();
    if (message != null && message.length() > MAX_MESSAGE) {
      message = message.substring(0, MAX_MESSAGE) + "...";
    }
    next.add(
        new TaskStatus.Retry(m.retries() + 1, now, new TaskError(error.type(), message, null)));
    if (next.size() > TaskStatus.MAX_RETRIES_KEPT) {
      next = next.subList(next.size() - TaskStatus.MAX_RETRIES_KEPT, next.size());
    }
    try {
      return m.forRetry(eta)
          .withHeaders(Map.of(RETRIES_HEADER, Wire.mapper().writeValueAsString(next)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return m.forRetry(eta);
    }
  }
}
