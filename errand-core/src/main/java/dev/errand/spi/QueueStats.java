package dev.errand.spi;

import java.time.Instant;
import java.util.Map;

/**
 * Counts of one queue at one moment.
 *
 * @param queue the queue
 * @param ready messages waiting to be delivered now
 * @param leased messages leased to consumers
 * @param delayed messages waiting for their eta (including retries)
 * @param readyByPriority ready messages per priority (only priorities with messages)
 * @param oldestReadyAt when the oldest ready message became ready, null if none
 * @param paused whether the queue is paused ({@link Broker#pause}): nothing is claimed from it
 * @param limited messages held back by their flow-control limit (counted in no other field)
 */
public record QueueStats(
    String queue,
    long ready,
    long leased,
    long delayed,
    Map<Integer, Long> readyByPriority,
    Instant oldestReadyAt,
    boolean paused,
    long limited) {

  public QueueStats {
    readyByPriority = Map.copyOf(readyByPriority);
  }
}
