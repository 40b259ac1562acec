package dev.errand.cli.internal.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.TaskQuery;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The statuses {@code errand bench-search} stores, row by row, and the filters it times over them.
 * Row {@code i} of {@code n}: updated every 50 ms, two rows to a tick (so ties by id are
 * exercised), the newest a minute ago; one of 20 names and one of 5 queues in turn; SUCCESS but one
 * in 50 FAILURE, one in 100 STARTED, one in 100 RETRY, one in 200 REVOKED; one in 10 sent by a
 * parent, a task that sent 100 children. Ids sort as the rows do.
 */
final class StatusMix {

  static final int NAMES = 20;
  static final String[] QUEUES = {"default", "email", "reports", "billing", "media"};
  static final long TICK_MILLIS = 50;

  /** Each parent's children lie in one block of this many rows (one in ten of them a child). */
  static final int PARENT_BLOCK = 1000;

  private static final JsonNode RESULT =
      Wire.mapper().createObjectNode().put("ok", true).put("items", 12);
  private static final TaskError ERROR =
      TaskError.of("java.io.IOException", "connection reset by peer");

  /**
   * A timed filter.
   *
   * @param key its short name, as printed in the FILTER column
   * @param description what it selects
   * @param query the query of its first page (no cursor, a page of {@link TaskQuery#DEFAULT_LIMIT})
   */
  record Filter(String key, String description, TaskQuery query) {}

  private final int rows;
  private final Instant start;
  private final String idFormat;

  /** The mix of {@code rows} statuses, the newest updated a minute before {@code now}. */
  StatusMix(int rows, Instant now) {
    this.rows = rows;
    this.start = now.minus(Duration.ofMinutes(1)).minusMillis(rows / 2 * TICK_MILLIS);
    this.idFormat = "bench-%0" + Math.max(7, String.valueOf(rows - 1).length()) + "d";
  }

  String id(int i) {
    return String.format(idFormat, i);
  }

  Instant updatedAt(int i) {
    return start.plusMillis(i / 2 * TICK_MILLIS);
  }

  TaskStatus status(int i) {
    TaskState state =
        i % 50 == 7
            ? TaskState.FAILURE
            : i % 100 == 3
                ? TaskState.STARTED
                : i % 100 == 4
                    ? TaskState.RETRY
                    : i % 200 == 9 ? TaskState.REVOKED : TaskState.SUCCESS;
    Instant updated = updatedAt(i);
    boolean retry = state == TaskState.RETRY;
    return new TaskStatus(
            id(i),
            "bench.task" + i % NAMES,
            state,
            QUEUES[i % QUEUES.length],
            state == TaskState.SUCCESS ? RESULT : null,
            state == TaskState.FAILURE || retry ? ERROR : null,
            null,
            state == TaskState.REVOKED ? "revoked" : null,
            retry ? 2 : 1,
            "worker-" + i % 4,
            updated.minusMillis(30),
            updated.minusMillis(10),
            state.isReady() ? updated : null,
            retry ? updated.plusSeconds(10) : null,
            updated)
        .withCall(i % 10 == 5 ? id(i / PARENT_BLOCK * PARENT_BLOCK) : null, null, null);
  }

  /** Every filter timed, in the order printed. */
  List<Filter> filters() {
    String parent = id(rows / 2 / PARENT_BLOCK * PARENT_BLOCK);
    Instant from = updatedAt((int) (rows * 45L / 100));
    Instant to = updatedAt((int) (rows * 55L / 100));
    return List.of(
        new Filter("none", "all statuses", query().build()),
        new Filter("state", "state=FAILURE (2%)", query().state(TaskState.FAILURE).build()),
        new Filter("name", "name=bench.task3 (5%)", query().name("bench.task3").build()),
        new Filter("queue", "queue=email (20%)", query().queue("email").build()),
        new Filter(
            "parent", "parent=" + parent + " (its children)", query().parentId(parent).build()),
        new Filter("time", "updatedAt in the middle tenth", query().from(from).to(to).build()),
        new Filter(
            "combined",
            "state=FAILURE and name=bench.task7 (1%)",
            query().state(TaskState.FAILURE).name("bench.task7").build()),
        new Filter(
            "combined-empty",
            "state=FAILURE and name=bench.task3 (none)",
            query().state(TaskState.FAILURE).name("bench.task3").build()));
  }

  private static TaskQuery.Builder query() {
    return TaskQuery.builder();
  }
}
