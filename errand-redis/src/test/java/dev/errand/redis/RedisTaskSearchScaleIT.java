package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.test.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Search and count over a million stored statuses: prints how long pages and counts take (it
 * asserts results, never timings). Slow to set up (about a minute), so it only runs with {@code
 * -Derrand.redis.millionRows=true}.
 */
@EnabledIfSystemProperty(named = "errand.redis.millionRows", matches = "true")
class RedisTaskSearchScaleIT {

  static final int ROWS = 1_000_000;
  static final int BATCH = 1000;
  static final String[] NAMES = new String[20];
  static final String[] QUEUES = {"default", "email", "reports", "billing", "media"};

  static {
    for (int i = 0; i < NAMES.length; i++) {
      NAMES[i] = "app.task" + i;
    }
  }

  final MutableClock clock = new MutableClock();
  String prefix;
  RedisBackend backend;
  ResultStore results;

  @BeforeEach
  void open() {
    prefix = RedisTestSupport.newPrefix();
    backend = RedisBackend.open(RedisTestSupport.url(prefix, ""), clock);
    results = backend.results();
  }

  @AfterEach
  void close() {
    backend.close();
    RedisTestSupport.deleteKeys(prefix);
    assertThat(RedisTestSupport.countKeys(prefix)).isZero();
  }

  /**
   * Row i: updated i × 3 ms after the start (a million spread over 50 minutes), a name of 20, a
   * queue of 5, SUCCESS but every 50th FAILURE and every 1000th STARTED, every 100th sent by one of
   * 100 parents.
   */
  TaskStatus row(int i, Instant start) {
    TaskState state =
        i % 1000 == 0 ? TaskState.STARTED : i % 50 == 0 ? TaskState.FAILURE : TaskState.SUCCESS;
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
            start.plusMillis(3L * i - 5),
            start.plusMillis(3L * i - 2),
            state.isReady() ? start.plusMillis(3L * i) : null,
            null,
            start.plusMillis(3L * i))
        .withCall(i % 100 == 0 ? "parent-" + (i / 100) % 100 : null, null, null);
  }

  @Test
  void pagesStayFastOverAMillionStatuses() {
    Instant start = clock.instant().minus(Duration.ofHours(1));
    long used = usedMemory();
    long t0 = System.nanoTime();
    List<TaskStatus> batch = new ArrayList<>(BATCH);
    for (int i = 0; i < ROWS; i++) {
      batch.add(row(i, start));
      if (batch.size() == BATCH) {
        results.putAll(batch, Duration.ofDays(1));
        batch.clear();
      }
    }
    long storeMillis = (System.nanoTime() - t0) / 1_000_000;
    long statusBytes = usedMemory() - used;
    print("stored 1,000,000 statuses (batches of 1000)", storeMillis * 1000);
    System.out.printf(
        "  Redis memory: %,d MB in all, index %,d MB%n",
        statusBytes >> 20, indexBytes(prefix) >> 20);

    // Warm the JIT and the scripts, so the figures are of the steady state.
    for (int i = 0; i < 20; i++) {
      results.search(
          query().limit(1000).after(start.toEpochMilli() + 3L * i * 1000 + ":x").build());
    }

    TaskPage first = timed("first page, no filter", () -> results.search(query().build()));
    assertThat(first.tasks().get(0).id()).isEqualTo("task-0999999");
    String deep = (3L * 500_000 + start.toEpochMilli()) + ":task-0500000";
    TaskPage middle =
        timed("page 10,000 deep via cursor", () -> results.search(query().after(deep).build()));
    assertThat(middle.tasks().get(0).id()).isEqualTo("task-0499999");
    TaskPage last =
        timed(
            "last page via cursor",
            () ->
                results.search(
                    query().after(start.toEpochMilli() + 150 + ":task-0000050").build()));
    assertThat(last.tasks()).hasSize(50);
    assertThat(last.next()).isNull();
    TaskPage deepFailures =
        timed(
            "state=FAILURE, deep via cursor",
            () -> results.search(query().state(TaskState.FAILURE).after(deep).build()));
    assertThat(deepFailures.tasks()).hasSize(50).allMatch(s -> s.state() == TaskState.FAILURE);
    timed(
        "state=STARTED (1,000 of them)",
        () -> results.search(query().state(TaskState.STARTED).build()));
    timed("name=app.task7 (50,000)", () -> results.search(query().name("app.task7").build()));
    timed("queue=email (200,000)", () -> results.search(query().queue("email").build()));
    TaskPage children =
        timed(
            "parentId=parent-42 (100)",
            () -> results.search(query().parentId("parent-42").build()));
    assertThat(children.tasks()).hasSize(50);
    TaskPage rare =
        timed(
            "name=app.task3 and state=FAILURE (none: walks 19,000)",
            () -> results.search(query().name("app.task3").state(TaskState.FAILURE).build()));
    assertThat(rare.tasks()).isEmpty();
    TaskPage combined =
        timed(
            "name=app.task0 and state=FAILURE (9,000)",
            () -> results.search(query().name("app.task0").state(TaskState.FAILURE).build()));
    assertThat(combined.tasks()).hasSize(50);
    timed(
        "a 10-minute window, deep",
        () ->
            results.search(
                query().from(start.plusSeconds(600)).to(start.plusSeconds(1200)).build()));
    TaskPage big = timed("first page of 1000", () -> results.search(query().limit(1000).build()));
    assertThat(big.tasks()).hasSize(1000);

    assertThat(timed("count, no filter", () -> results.count(query().build()))).isEqualTo(ROWS);
    assertThat(
            timed(
                "count state=FAILURE",
                () -> results.count(query().state(TaskState.FAILURE).build())))
        .isEqualTo(19_000);
    assertThat(
            timed(
                "count name=app.task0 and state=FAILURE (walks 19,000)",
                () -> results.count(query().name("app.task0").state(TaskState.FAILURE).build())))
        .isEqualTo(9_000);

    clock.advance(Duration.ofDays(2));
    long t1 = System.nanoTime();
    assertThat(results.count(query().build())).isZero();
    print("count after all expired (trims 1,000,000)", (System.nanoTime() - t1) / 1000);
  }

  static TaskQuery.Builder query() {
    return TaskQuery.builder();
  }

  /**
   * Runs {@code work} five times and prints the fastest and the median time; returns its result.
   */
  static <T> T timed(String what, Supplier<T> work) {
    long[] micros = new long[5];
    T out = null;
    for (int i = 0; i < micros.length; i++) {
      long t0 = System.nanoTime();
      out = work.get();
      micros[i] = (System.nanoTime() - t0) / 1000;
    }
    Arrays.sort(micros);
    System.out.printf(
        "%-58s %,9.1f ms (median %,.1f)%n", what, micros[0] / 1000.0, micros[2] / 1000.0);
    return out;
  }

  static void print(String what, long micros) {
    System.out.printf("%-58s %,10.1f ms%n", what, micros / 1000.0);
  }

  static long usedMemory() {
    long[] out = {0};
    RedisTestSupport.withRedis(
        r -> {
          for (String line : r.info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
              out[0] = Long.parseLong(line.substring("used_memory:".length()).trim());
            }
          }
        });
    return out[0];
  }

  /** Bytes of the index keys, by MEMORY USAGE (sampled for the large ones). */
  static long indexBytes(String prefix) {
    long[] out = {0};
    RedisTestSupport.withRedis(
        r -> {
          for (String key : r.keys(prefix + ":{tasks}:*")) {
            Long n = r.memoryUsage(key);
            out[0] += n == null ? 0 : n;
          }
        });
    return out[0];
  }
}
