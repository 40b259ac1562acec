package dev.errand;

import java.util.List;
import java.util.Optional;

/** Lists, re-drives and discards dead letters. Obtained from {@link Client#deadLetters()}. */
public interface DeadLetters {

  /** Default page size of {@link #list()}: {@value}. */
  int DEFAULT_PAGE_SIZE = 100;

  /** The newest dead letters of all queues, up to {@value #DEFAULT_PAGE_SIZE}. */
  default List<DeadLetter> list() {
    return list(null, 0, DEFAULT_PAGE_SIZE);
  }

  /** A page of dead letters, newest first; {@code queue} null for all queues. */
  List<DeadLetter> list(String queue, int offset, int limit);

  /** One dead letter. */
  Optional<DeadLetter> get(String id);

  /** How many dead letters there are in {@code queue}, or in all queues if null. */
  long count(String queue);

  /**
   * Sends a dead letter's task again, from scratch (retries reset, same id), to its queue, and
   * removes the dead letter.
   *
   * @return false if there is no such dead letter
   * @throws IllegalStateException if its body is not text and so cannot be sent again, or if it was
   *     sent with a unique key that another task holds now (the dead letter stays)
   */
  boolean redrive(String id);

  /**
   * Re-drives every dead letter of {@code queue} (all queues if null), each at most once: one that
   * fails again while this runs stays in the list rather than being sent round again.
   *
   * @return how many were re-driven
   */
  int redriveAll(String queue);

  /**
   * Deletes a dead letter for good.
   *
   * @return false if there is no such dead letter
   */
  boolean discard(String id);

  /**
   * Deletes every dead letter of {@code queue} (all queues if null).
   *
   * @return how many were deleted
   */
  int discardAll(String queue);
}
