package dev.errand.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.test.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * How search behaves with a million stored statuses: prints how long pages take, asserts only what
 * they hold (tests never assert speed). About a minute, most of it storing the rows, so it runs
 * only when asked: {@code mvn -o test -pl errand-sqlite -Dtest=MillionStatusesTest
 * -Derrand.sqlite.millionRows=true}.
 */
@EnabledIfSystemProperty(named = "errand.sqlite.millionRows", matches = "true")
class MillionStatusesTest {

  private static final int ROWS = 1_000_000;
  private static final String[] NAMES = new String[20];
  private static final String[] QUEUES = {"default", "email", "reports", "media"};

  static {
    for (int i = 0; i < NAMES.length; i++) {
      NAMES[i] = "app.task" + i;
    }
  }

  @TempDir Path dir;
  private final MutableClock clock = new MutableClock();
  private final Instant start = clock.instant().minus(Duration.ofDays(1));

  /**
   * Row {@code i}: updated every 50 ms (two share each tick), one in 50 failed, one in 10 a child.
   */
  private TaskStatus status(int i) {
    TaskState state =
        i % 50 == 7
            ? TaskState.FAILURE
            : i % 100 == 3 ? TaskState.STARTED : i % 100 == 4 ? TaskState.RETRY : TaskState.SUCCESS;
    Instant updated = start.plusMillis(i / 2 * 50L);
    return new TaskStatus(
            String.format("task-%07d", i),
            NAMES[i % NAMES.length],
            state,
            QUEUES[i % QUEUES.length],
            null,
            null,
            null,
            null,
            1,
            "worker-1",
            updated.minusMillis(20),
            updated.minusMillis(10),
            state.isReady() ? updated : null,
            null,
            updated)
        .withCall(i % 10 == 5 ? "parent-" + i / 1000 : null, null, null);
  }

  @Test
  void pagesStayFastWithAMillionStatuses() {
    try (SqliteBackend backend = SqliteBackend.open(dir.resolve("million.db"), clock)) {
      ResultStore results = backend.results();

      long t0 = System.nanoTime();
      // One putAll is one transaction of multi-row inserts, through the store's own write path;
      // the list makes each status when asked, so the million never sit in memory together.
      results.putAll(
          new AbstractList<>() {
            @Override
            public TaskStatus get(int i) {
              return status(i);
            }

            @Override
            public int size() {
              return ROWS;
            }
          },
          Duration.ofDays(7));
      System.out.printf(
          "stored %,d statuses in %,d ms%n", ROWS, (System.nanoTime() - t0) / 1_000_000);

      // Warm the JIT (decoding, the driver) on pages not timed below, as in a long-running process.
      for (int i = 0; i < 300; i++) {
        results.search(query().name(NAMES[i % NAMES.length]).limit(100).build());
      }

      TaskPage first = time("first page (50), no filter", () -> results.search(query().build()));
      assertThat(first.tasks()).hasSize(50);
      assertThat(first.tasks().get(0).id()).isEqualTo("task-0999999");

      String cursor = null;
      for (int i = 0; i < 10; i++) {
        cursor = results.search(query().limit(1000).after(cursor).build()).next();
      }
      String deep = cursor;
      TaskPage tenThousandDeep =
          time(
              "page 10,000 rows deep, by cursor",
              () -> results.search(query().after(deep).build()));
      assertThat(tenThousandDeep.tasks().get(0).id()).isEqualTo("task-0989999");

      TaskPage failures =
          time(
              "first page, state FAILURE (2%)",
              () -> results.search(query().state(TaskState.FAILURE).build()));
      assertThat(failures.tasks()).hasSize(50).allMatch(s -> s.state() == TaskState.FAILURE);
      TaskPage successes =
          time(
              "first page, state SUCCESS (96%)",
              () -> results.search(query().state(TaskState.SUCCESS).build()));
      assertThat(successes.tasks()).hasSize(50).allMatch(s -> s.state() == TaskState.SUCCESS);
      TaskPage byName =
          time("first page, name (5%)", () -> results.search(query().name("app.task3").build()));
      assertThat(byName.tasks()).hasSize(50).allMatch(s -> s.name().equals("app.task3"));
      TaskPage deepByName =
          time(
              "page after it, name",
              () -> results.search(query().name("app.task3").after(byName.next()).build()));
      assertThat(deepByName.tasks()).hasSize(50).allMatch(s -> s.name().equals("app.task3"));
      TaskPage byQueue =
          time("first page, queue (25%)", () -> results.search(query().queue("email").build()));
      assertThat(byQueue.tasks()).hasSize(50).allMatch(s -> s.queue().equals("email"));
      TaskPage children =
          time(
              "page, parent (100 children)",
              () -> results.search(query().parentId("parent-500").limit(1000).build()));
      assertThat(children.tasks()).hasSize(100);
      TaskPage twoFilters =
          time(
              "first page, state FAILURE + name",
              () -> results.search(query().state(TaskState.FAILURE).name("app.task7").build()));
      assertThat(twoFilters.tasks()).hasSize(50);
      TaskPage hour =
          time(
              "first page, an hour's range",
              () ->
                  results.search(
                      query()
                          .from(start.plus(Duration.ofHours(5)))
                          .to(start.plus(Duration.ofHours(6)))
                          .build()));
      assertThat(hour.tasks()).hasSize(50);

      long all = time("count, no filter", () -> results.count(query().build()));
      assertThat(all).isEqualTo(ROWS);
      long failed =
          time(
              "count, state FAILURE",
              () -> results.count(query().state(TaskState.FAILURE).build()));
      assertThat(failed).isEqualTo(ROWS / 50);
      long succeeded =
          time(
              "count, state SUCCESS",
              () -> results.count(query().state(TaskState.SUCCESS).build()));
      assertThat(succeeded).isEqualTo(ROWS - ROWS / 50 - 2 * ROWS / 100);
      long named = time("count, name", () -> results.count(query().name("app.task3").build()));
      assertThat(named).isEqualTo(ROWS / NAMES.length);
    }
  }

  private static TaskQuery.Builder query() {
    return TaskQuery.builder();
  }

  /**
   * Runs {@code what} seven times; prints the first (its statement not yet prepared, its pages
   * maybe not cached) and the median of the others.
   */
  private static <T> T time(String label, Supplier<T> what) {
    long[] nanos = new long[7];
    T result = null;
    for (int i = 0; i < nanos.length; i++) {
      long t0 = System.nanoTime();
      result = what.get();
      nanos[i] = System.nanoTime() - t0;
    }
    long cold = nanos[0];
    long[] warm = Arrays.copyOfRange(nanos, 1, nanos.length);
    Arrays.sort(warm);
    System.out.printf(
        "%-36s first %8.3f ms, then median %8.3f ms%n",
        label, cold / 1e6, warm[warm.length / 2] / 1e6);
    return result;
  }
}
