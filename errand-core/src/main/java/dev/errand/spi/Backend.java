package dev.errand.spi;

import java.time.Clock;
import java.time.Duration;
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

  /** Groups and chords. */
  WorkflowStore workflows();

  /**
   * Applies each settlement atomically: all of its parts or none, in the order of {@link
   * Settlement.Step}, and only while its delivery's receipt is current (a stale one changes
   * nothing, its follow-ups and chord part included). The batch is applied in one round trip where
   * the backend can (one script on Redis, one transaction in SQL), but only each settlement is a
   * unit: a failure may leave a batch partly applied, settlement by settlement. Applying the same
   * settlement twice is harmless: the second finds its receipt stale.
   *
   * <p>Ready statuses among them wake {@link ResultStore#whenReady} waiters once stored.
   *
   * @param batch the settlements, possibly empty
   * @param ttl how long the statuses (and dead letters' statuses) are kept
   * @return the task ids of the settlements whose receipt was stale (nothing applied)
   * @throws dev.errand.BackendException if the batch cannot be applied; each settlement was then
   *     applied whole or not at all
   */
  Set<String> settle(List<Settlement> batch, Duration ttl);

  /**
   * A view of this backend that enqueues inside the caller's own JDBC transaction on {@code
   * connection}: the messages, their idempotency and unique keys and their "sent" events are
   * written with the caller's statements and exist if, and only if, the caller commits; workers see
   * them once it does. Everything else (results, revocations, reads) goes to this backend as usual.
   * Only a backend stored in the database the connection is connected to can do this (PostgreSQL);
   * the default refuses.
   *
   * <p>The connection must be in a transaction (auto-commit off); the caller commits or rolls back
   * and closes it. The view is as thread-safe as the connection, which JDBC does not promise: use
   * it from the thread that owns the transaction, and drop it when the transaction ends.
   *
   * @throws UnsupportedOperationException if this backend cannot write in a JDBC transaction
   */
  default Backend joining(java.sql.Connection connection) {
    throw new UnsupportedOperationException(
        describe()
            + " cannot enqueue inside a JDBC transaction: only the PostgreSQL backend stores tasks"
            + " in the caller's database. Enqueue after the commit instead (errand-spring-boot"
            + "-starter does this for @Transactional methods)");
  }

  /** A description of where this backend stores its data, with credentials removed. */
  String describe();

  /** Releases connections and files. Idempotent. */
  @Override
  void close();
}
