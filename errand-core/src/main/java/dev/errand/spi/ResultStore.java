package dev.errand.spi;

import dev.errand.TaskStatus;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Task states and results, each kept until its time to live passes. Thread-safe.
 *
 * <p>Waiting is by notification, never by a busy loop: {@link #whenReady} completes when a ready
 * state (SUCCESS, FAILURE, REVOKED) is stored for the task, in this or another process.
 */
public interface ResultStore {

  /** Stores (replaces) the status of a task, kept for {@code ttl}. */
  void put(TaskStatus status, Duration ttl);

  /** Stores several statuses in one round trip where the backend can. */
  default void putAll(List<TaskStatus> statuses, Duration ttl) {
    for (TaskStatus s : statuses) {
      put(s, ttl);
    }
  }

  /** The stored status, empty if unknown or expired. */
  Optional<TaskStatus> get(String taskId);

  /**
   * The stored statuses of {@code taskIds} (unknown and expired ones left out), in as few round
   * trips as the backend can: backends read them in batches (one pipelined read on Redis, {@code IN
   * (...)} queries in SQL), never one round trip each. The default calls {@link #get} for each.
   *
   * @return a new map from task id to status, in the order of {@code taskIds}
   */
  default Map<String, TaskStatus> getAll(Collection<String> taskIds) {
    Map<String, TaskStatus> found = new LinkedHashMap<>();
    for (String id : taskIds) {
      get(id).ifPresent(s -> found.put(id, s));
    }
    return found;
  }

  /**
   * As {@link #getAll}, for readers that need only how each task ended (a chord's callback binding
   * 10,000 results, a group's result): each status's id, name, state, result, error and reason are
   * as {@link #getAll} returns them, and a store may leave every other field out (null, or 0 for
   * the attempt), which it can read much more cheaply. The default calls {@link #getAll}.
   *
   * @return a new map from task id to status, in the order of {@code taskIds}
   */
  default Map<String, TaskStatus> getOutcomes(Collection<String> taskIds) {
    return getAll(taskIds);
  }

  /**
   * A page of the stored statuses that match {@code query}, newest first (see {@link TaskQuery}).
   * Stays fast however many statuses are stored: backends keep indexes on state, name, queue and
   * parent, each ordered by update time. Expired statuses are never returned.
   */
  TaskPage search(TaskQuery query);

  /** How many stored statuses match {@code query}'s filters (its cursor and limit are ignored). */
  long count(TaskQuery query);

  /**
   * How many stored statuses match {@code query}'s filters in each time bucket, by update time: one
   * call for a whole chart, where {@link #count} per bucket would be a query each. Every filter of
   * the query applies, its {@code from} and {@code to} too; its cursor and limit are ignored.
   * Statuses outside every bucket are not counted; expired ones never are. Backends answer with one
   * query (SQLite: one {@code GROUP BY}; Redis: one pipelined read, or one walk of the index when
   * several filters are given).
   *
   * @param query the filters
   * @param buckets the time buckets
   * @return one count per bucket, in bucket order ({@code buckets.count()} long), a new array
   */
  long[] countByTime(TaskQuery query, TimeBuckets buckets);

  /**
   * A future completed with the task's status once it is ready; already complete if it is.
   * Cancelling the future stops the wait and frees what it held.
   */
  CompletableFuture<TaskStatus> whenReady(String taskId);

  /** Marks a task revoked for {@code ttl}, so a worker that receives it skips it. */
  void revoke(String taskId, Duration ttl);

  /**
   * Marks every task of {@code taskIds} revoked for {@code ttl}, as {@link #revoke} does each, in
   * as few round trips as the backend can (revoking a workflow marks every step not finished:
   * 10,000 for a large chord). The default calls {@link #revoke} for each.
   */
  default void revokeAll(Collection<String> taskIds, Duration ttl) {
    for (String id : taskIds) {
      revoke(id, ttl);
    }
  }

  /** Which of {@code taskIds} are marked revoked. */
  Set<String> revoked(Collection<String> taskIds);

  /**
   * Claims {@code key} for {@code ttl}: returns true the first time, false while the claim lasts.
   * The building block of {@code ctx.once(key)}.
   */
  boolean claimOnce(String key, Duration ttl);
}
