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
}
