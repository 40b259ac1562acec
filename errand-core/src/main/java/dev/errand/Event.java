package dev.errand;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * Something that happened to a task or a worker. Events are kept by the backend in a bounded log
 * (the oldest are dropped first), so monitoring survives restarts.
 *
 * @param seq the position in the backend's log, assigned on publish (0 before)
 * @param type what happened
 * @param time when
 * @param taskId the task, null for worker events
 * @param taskName the task name, possibly null
 * @param worker the worker, possibly null (e.g. task-sent)
 * @param queue the queue, possibly null
 * @param data details (error, progress meta, runtime, retry eta), possibly null
 */
public record Event(
    long seq,
    EventType type,
    Instant time,
    String taskId,
    String taskName,
    String worker,
    String queue,
    JsonNode data) {

  public Event {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(time, "time");
  }

  /** A copy with the log position {@code seq}. */
  public Event withSeq(long seq) {
    return new Event(seq, type, time, taskId, taskName, worker, queue, data);
  }
}
