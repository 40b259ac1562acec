package dev.errand.workflow;

import dev.errand.AsyncResult;
import dev.errand.ResultTimeoutException;
import dev.errand.TaskFailedException;
import java.time.Duration;
import java.util.List;

/**
 * The results of a sent {@link Group}, readable from any process by the group's id ({@link
 * dev.errand.Client#groupResult}): a web request can send a group, answer 202 with its id, and
 * another request can poll it. Statuses are read in batches (a few round trips for thousands of
 * members), never one round trip per member. Thread-safe.
 *
 * @param <R> the members' result type
 */
public interface GroupResult<R> {

  /** The group's id. */
  String id();

  /** The member task ids in member order (each member chain's last task). */
  List<String> ids();

  /** A handle on each member's result, in member order. */
  List<AsyncResult<R>> results();

  /** How many members it has. */
  default int size() {
    return ids().size();
  }

  /** How many members succeeded so far. */
  int completed();

  /** How many members failed or were revoked so far. */
  int failed();

  /** Whether every member has finished (succeeded, failed or been revoked). */
  boolean ready();

  /**
   * Waits until every member has finished and returns their results in member order.
   *
   * @throws TaskFailedException for the first failed member, in member order
   * @throws ResultTimeoutException if they are not all finished within {@code timeout}
   */
  List<R> get(Duration timeout) throws InterruptedException;

  /** Revokes every member not finished yet; returns how many were revoked. */
  int revoke();
}
