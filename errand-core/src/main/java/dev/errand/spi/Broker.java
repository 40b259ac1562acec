package dev.errand.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Stores messages durably and leases them to consumers. Thread-safe.
 *
 * <p>The contract (proved by {@code BackendContractTest}):
 *
 * <ul>
 *   <li>A message is delivered to at most one consumer at a time: claiming is atomic.
 *   <li>A claimed message is leased; if the lease is neither renewed nor ended by {@link #ack},
 *       {@link #release} or {@link #retry} before it expires, the message is delivered again with a
 *       higher delivery count. A message is only ever removed by {@link #ack}.
 *   <li>Within a queue, higher priority first (9 before 0), FIFO within a priority. Across the
 *       queues of one claim, earlier queues first.
 *   <li>A message is not delivered before its {@code notBefore}.
 *   <li>A message is not delivered from a paused queue.
 *   <li>A message with a {@link FlowLimit} is delivered only when its key's rate and concurrency
 *       allow; until then it waits in the broker (counted as {@link QueueStats#limited()}), without
 *       delaying other messages. Messages of one key keep their priority and order. A lease that
 *       runs out keeps its place in the concurrency (the message is delivered again as is); an ack,
 *       a retry or a release frees it.
 *   <li>A unique key is held from the enqueue until the message is removed (acked or purged): an
 *       enqueue with a held key returns the holder's id and enqueues nothing.
 *   <li>An idempotency key seen within its window returns the first message's id and enqueues
 *       nothing.
 *   <li>Every operation on a {@link Delivery} checks its receipt: a stale receipt changes nothing
 *       and returns false.
 * </ul>
 */
public interface Broker {

  /**
   * Enqueues messages, in order. Each message is enqueued atomically with its idempotency key; a
   * batch need not be atomic as a whole.
   *
   * @return one result per message, in the same order
   */
  List<EnqueueResult> enqueue(List<NewMessage> messages);

  /**
   * Leases up to {@code max} ready messages from {@code queues} (earlier queues first), waiting up
   * to {@code wait} for the first to become available. Returns early, possibly empty, when {@link
   * #wakeup()} is called.
   *
   * @param queues queue names in priority order, not empty
   * @param max the most messages to lease, {@code > 0}
   * @param lease how long the lease lasts unless renewed
   * @param wait how long to wait when nothing is ready; zero to return at once
   * @return the leased messages, possibly empty
   * @throws InterruptedException if the calling thread is interrupted while waiting
   */
  List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
      throws InterruptedException;

  /**
   * Removes a delivered message for good.
   *
   * @return false if the receipt is stale (the lease expired and the message went back)
   */
  boolean ack(Delivery delivery);

  /**
   * Extends the leases of {@code deliveries} to {@code lease} from now.
   *
   * @return the ids of the deliveries whose receipt is stale (lease lost), empty if all renewed
   */
  Set<String> renew(Collection<Delivery> deliveries, Duration lease);

  /**
   * Returns a message to its queue at once, in its original position, and takes back the delivery
   * count this delivery added. Used for messages prefetched but not started.
   *
   * @return false if the receipt is stale
   */
  boolean release(Delivery delivery);

  /**
   * Replaces the body of a delivered message, ends its lease, resets its delivery count and makes
   * it deliverable again at {@code notBefore}, atomically. Used for retries.
   *
   * @return false if the receipt is stale
   */
  boolean retry(Delivery delivery, byte[] body, Instant notBefore);

  /** Wakes consumers blocked in {@link #claim} in this process so they re-check at once. */
  void wakeup();

  /** Names of the queues that hold messages or have held them recently. */
  List<String> queues();

  /** Counts for one queue. */
  QueueStats stats(String queue);

  /**
   * Pauses a queue: from now on no claim takes a message from it, until {@link #resume}. Enqueues,
   * acks, retries and lease expiry go on as usual; messages leased before the pause finish
   * normally. The pause is stored by the backend: it holds for every consumer, also those that
   * start later, until resumed. Pausing a paused queue changes nothing.
   */
  void pause(String queue);

  /**
   * Resumes a paused queue and wakes consumers waiting for it. Resuming a queue that is not paused
   * changes nothing.
   */
  void resume(String queue);

  /** Names of the paused queues, sorted. */
  List<String> pausedQueues();

  /**
   * The limit keys of a queue that are in use (messages waiting or leased, or a rate not yet
   * recovered), busiest first, at most {@code max}. An idle key is forgotten once its rate has
   * recovered, so this costs nothing for keys no longer used.
   */
  List<LimitStats> limits(String queue, int max);

  /**
   * Deletes the ready and delayed messages of a queue (leased ones finish normally).
   *
   * @return how many were deleted
   */
  long purge(String queue);

  /**
   * How many shards {@code queue} is spread over: 1 unless the backend shards queues and the queue
   * was given more with {@link #setShards}.
   */
  default int shards(String queue) {
    return 1;
  }

  /**
   * Spreads {@code queue} over {@code shards} shards, each a queue of its own inside the backend
   * (on Redis Cluster: its own hash slot, so a hot queue can use every master). Priorities and FIFO
   * within a priority hold per shard; a claim takes from the shards in rotation. Changing the count
   * moves nothing: messages in the earlier shards are still claimed until they are empty.
   *
   * @throws UnsupportedOperationException if this backend does not shard queues (only Redis does)
   * @throws IllegalArgumentException if {@code shards} is out of the backend's range
   */
  default void setShards(String queue, int shards) {
    throw new UnsupportedOperationException(
        "this backend does not shard queues: sharded queues are a Redis (Cluster) feature");
  }
}
