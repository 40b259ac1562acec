package dev.errand.spi;

import dev.errand.TaskStatus;
import java.time.Clock;
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
   * The backend's clock: the time by which this backend decides leases, delays, expiry and
   * leadership. Producers and workers use it for the absolute instants they send (eta, expires) and
   * for their local deadlines, so a process whose own clock is wrong still agrees with the backend
   * (a worker with a clock a minute ahead cannot take over a running task, nor run a delayed one
   * early).
   *
   * <p>A backend opened with the system clock (see {@link BackendProvider#isSystemClock}) takes its
   * time from its server: Redis's {@code TIME}, the database's clock, the host's kernel clock for
   * SQLite; this clock is then the process clock corrected by its measured offset to that time. A
   * backend opened with any other clock (a test's settable clock, a simulation) decides by that
   * clock and returns it here.
   *
   * <p>Thread-safe. The default, the UTC system clock, is right only for a backend that takes every
   * time from the system clock of its process; backends should override it (a wrapper returns the
   * clock of the backend it wraps).
   */
  default Clock clock() {
    return Clock.systemUTC();
  }

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
