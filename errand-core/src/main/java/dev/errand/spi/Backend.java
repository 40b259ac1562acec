package dev.errand.spi;

import dev.errand.TaskStatus;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A storage engine: a broker plus the stores Errand needs, sharing one connection or file. Open one
 * per process and share it between clients and workers; implementations are thread-safe.
 *
 * <p>Every backend passes the contract suite in {@code errand-test} ({@code BackendContractTest});
 * the guarantees are written out in {@code DESIGN.md}.
 */
public interface Backend extends AutoCloseable {

  /** The message broker. */
  Broker broker();

  /** Task states and results. */
  ResultStore results();

  /** The dead letter list. */
  DeadLetterStore deadLetters();

  /** The bounded event log. */
  EventStore events();

  /** Live workers and their heartbeats. */
  WorkerRegistry workers();

  /** Scheduler schedules and its leader lease. */
  ScheduleStore schedules();

  /**
   * Stores task statuses, then acks deliveries, in as few round trips as the backend can (one
   * transaction in the SQL backends). Every status is stored before any delivery is acked, so a
   * crash in between repeats a task and never loses its outcome. Statuses are stored in list order.
   * Workers use this for their hot path; the default calls {@link ResultStore#putAll} and then
   * {@link Broker#ack} for each delivery.
   *
   * @param statuses statuses to store, possibly empty
   * @param ttl how long the statuses are kept
   * @param acks deliveries to end, possibly empty
   * @return the ids of the deliveries whose receipt was stale (not acked), empty normally
   */
  default Set<String> storeAndAck(List<TaskStatus> statuses, Duration ttl, List<Delivery> acks) {
    if (!statuses.isEmpty()) {
      results().putAll(statuses, ttl);
    }
    Set<String> stale = new HashSet<>();
    for (Delivery d : acks) {
      if (!broker().ack(d)) {
        stale.add(d.id());
      }
    }
    return stale;
  }

  /** A description of where this backend stores its data, with credentials removed. */
  String describe();

  /** Releases connections and files. Idempotent. */
  @Override
  void close();
}
