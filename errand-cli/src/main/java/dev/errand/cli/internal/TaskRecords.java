package dev.errand.cli.internal;

import dev.errand.spi.Backend;
import java.util.List;

/**
 * Whether the backend knows a task id at all, so that {@code result} and {@code revoke} can tell a
 * mistyped or expired id from a task that is still queued: a queued task has no status yet, but its
 * {@code task-sent} event is in the log.
 */
final class TaskRecords {

  private TaskRecords() {}

  /** True if a status, an event, a dead letter or a revoke mark names {@code id}. */
  static boolean known(Backend b, String id) {
    return b.results().get(id).isPresent()
        || !b.events().forTask(id, 1).isEmpty()
        || b.deadLetters().get(id).isPresent()
        || !b.results().revoked(List.of(id)).isEmpty();
  }

  /** The "no such task" failure, saying where the command looked. */
  static NotFoundException unknown(String id) {
    return new NotFoundException(
        "no task with id "
            + id
            + " is known (no status, event, dead letter or revoke mark names it; statuses expire"
            + " after a day by default)");
  }
}
