package dev.errand.spi;

import dev.errand.TaskStatus;
import java.util.List;

/**
 * One page of a {@link ResultStore#search}.
 *
 * @param tasks the statuses, newest first
 * @param next the cursor of the next page ({@link TaskQuery.Builder#after}), or null if this was
 *     the last
 */
public record TaskPage(List<TaskStatus> tasks, String next) {

  public TaskPage {
    tasks = List.copyOf(tasks);
  }
}
