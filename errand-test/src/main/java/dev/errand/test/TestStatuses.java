package dev.errand.test;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import java.time.Instant;

/** Task statuses for tests of stores and searches. */
public final class TestStatuses {

  private TestStatuses() {}

  /**
   * A status of task {@code id} on its first attempt by worker {@code w}, written at {@code
   * updatedAt}, with nothing else set.
   */
  public static TaskStatus status(
      String id, String name, TaskState state, String queue, Instant updatedAt) {
    return new TaskStatus(
        id, name, state, queue, null, null, null, null, 1, "w", null, null, null, null, updatedAt);
  }
}
