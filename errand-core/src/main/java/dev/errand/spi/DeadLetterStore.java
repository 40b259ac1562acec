package dev.errand.spi;

import dev.errand.DeadLetter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The dead letter list: messages kept with the reason they could not be processed. Thread-safe. */
public interface DeadLetterStore {

  /** Adds a dead letter, replacing one with the same id. */
  void add(DeadLetter deadLetter);

  /**
   * A page of dead letters, newest first.
   *
   * @param queue only this queue, or null for all
   * @param offset how many to skip
   * @param limit the most to return
   */
  List<DeadLetter> list(String queue, int offset, int limit);

  /** One dead letter. */
  Optional<DeadLetter> get(String id);

  /**
   * Removes a dead letter.
   *
   * @return false if there was none with that id
   */
  boolean remove(String id);

  /** How many dead letters, in {@code queue} or in all queues if null. */
  long count(String queue);

  /**
   * How many dead letters each queue holds, in one read: every queue with at least one, none with
   * none (so the operator's view finds dead letters whose queue is otherwise gone).
   *
   * @return queue name to count, all counts {@code > 0}; a new map the caller may keep
   */
  Map<String, Long> countByQueue();
}
