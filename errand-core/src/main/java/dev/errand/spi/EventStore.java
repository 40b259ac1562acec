package dev.errand.spi;

import dev.errand.Event;
import java.util.List;

/**
 * A bounded log of events: the oldest are dropped once the capacity is reached. Thread-safe. Events
 * are best-effort observability, never part of a task's outcome.
 */
public interface EventStore {

  /** Appends events, assigning each the next sequence number. */
  void publish(List<Event> events);

  /**
   * Events after {@code afterSeq}, oldest first.
   *
   * @param afterSeq 0 for the oldest kept
   * @param limit the most to return
   */
  List<Event> read(long afterSeq, int limit);

  /** The newest events, newest first. */
  List<Event> latest(int limit);

  /**
   * The kept events of one task, oldest first: what a task's timeline is drawn from. Events older
   * than the log's capacity are gone, so this may be empty for an old task.
   *
   * <p>The default reads the whole log in pages and keeps the task's events: a few milliseconds for
   * the default 10,000 events, meant for a person opening one task, not for a loop.
   *
   * @param limit the most to return
   */
  default List<Event> forTask(String taskId, int limit) {
    java.util.Objects.requireNonNull(taskId, "taskId");
    List<Event> out = new java.util.ArrayList<>();
    long after = 0;
    while (out.size() < limit) {
      List<Event> page = read(after, 1_000);
      for (Event e : page) {
        after = e.seq();
        if (taskId.equals(e.taskId()) && out.size() < limit) {
          out.add(e);
        }
      }
      if (page.size() < 1_000) {
        break;
      }
    }
    return out;
  }
}
