package dev.errand.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where the scheduler ("beat") keeps its schedules, and how its processes agree on one leader.
 * Thread-safe, and safe to share between processes that open the same backend.
 *
 * <p>Schedules are opaque JSON bodies under unique names, written with compare-and-set on a version
 * so that an operator's edit and the leader's bookkeeping never overwrite each other. Every write
 * or delete raises a change counter that {@link #awaitChange} waits on, so a scheduler sleeping
 * until its next due time wakes at once when a schedule is edited, in this process or another.
 *
 * <p>The leader lease is held by one candidate per group until it expires by the backend's clock;
 * the holder renews it by leading again before then. A lease only makes a second leader unlikely: a
 * process paused past its lease may still act once it wakes, so what a leader does must also be
 * safe to repeat (the scheduler enqueues with an idempotency key per tick).
 */
public interface ScheduleStore {

  /** All schedules, sorted by name. */
  List<StoredSchedule> list();

  /** The schedule named {@code name}, if stored. */
  Optional<StoredSchedule> get(String name);

  /**
   * Writes a schedule if its stored version is {@code expectedVersion}: 0 means "not stored yet"
   * (create only).
   *
   * @param name the schedule's name, not blank
   * @param body the schedule as JSON text
   * @param expectedVersion the version last read, or 0 to create
   * @return the new version, or empty if the stored version was not {@code expectedVersion} (a
   *     concurrent write won; read again and retry)
   */
  OptionalLong put(String name, String body, long expectedVersion);

  /**
   * Deletes a schedule if its stored version is {@code expectedVersion}, or whatever its version if
   * {@code expectedVersion} is 0.
   *
   * @return false if there was no such schedule, or its version differed
   */
  boolean delete(String name, long expectedVersion);

  /** A number that changes whenever a schedule is written or deleted, by any process. */
  long changes();

  /**
   * Waits until {@link #changes()} differs from {@code seen}, or {@code timeout} passes. May return
   * early (a spurious wake, or a reconnect after which changes may have been missed); callers
   * re-read what they need either way.
   *
   * @return the change counter when it returned
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  long awaitChange(long seen, Duration timeout) throws InterruptedException;

  /**
   * Takes or renews the leader lease of {@code group} for {@code candidate}: succeeds if no lease
   * is live or {@code candidate} already holds it, and then the lease lasts {@code ttl} from now.
   *
   * @param group what is led, e.g. {@code "beat"}
   * @param candidate a name unique to the process asking
   * @param ttl how long the lease lasts without renewal, {@code > 0}
   * @return true if {@code candidate} holds the lease now
   */
  boolean lead(String group, String candidate, Duration ttl);

  /** Gives up the lease of {@code group} if {@code candidate} holds it, so a standby takes over. */
  void resign(String group, String candidate);

  /** The live leader of {@code group}, if any. */
  Optional<Lease> leader(String group);

  /**
   * A live leader lease.
   *
   * @param holder the candidate that holds it
   * @param expiresAt when it lapses unless renewed
   */
  record Lease(String holder, Instant expiresAt) {}
}
