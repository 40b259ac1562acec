package dev.errand.test;

import static dev.errand.test.ContractSupport.TTL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Searching stored statuses: filters, newest-first order, cursor paging, counts (also per time
 * bucket), expiry.
 */
interface TaskSearchContract extends ContractFixture {

  /** A status of task {@code id}, updated {@code msAgo} milliseconds before the clock's now. */
  private TaskStatus status(String id, String name, TaskState state, String queue, long msAgo) {
    return TestStatuses.status(id, name, state, queue, clock().instant().minusMillis(msAgo))
        .withCall(id.startsWith("child") ? "parent-1" : null, null, null);
  }

  /** How many milliseconds before the clock's now {@code t} is. */
  private long msAgo(Instant t) {
    return Duration.between(t, clock().instant()).toMillis();
  }

  private List<String> ids(TaskPage page) {
    return page.tasks().stream().map(TaskStatus::id).toList();
  }

  private void storeSample(ResultStore results) {
    results.putAll(
        List.of(
            status("t1", "emails.send", TaskState.SUCCESS, "email", 5000),
            status("t2", "emails.send", TaskState.FAILURE, "email", 4000),
            status("t3", "reports.build", TaskState.SUCCESS, "default", 3000),
            status("child-1", "reports.part", TaskState.STARTED, "default", 2000),
            status("child-2", "reports.part", TaskState.SUCCESS, "default", 1000)),
        TTL);
  }

  @Test
  default void searchReturnsNewestFirstAndFiltersByEachField() {
    ResultStore results = backend().results();
    storeSample(results);

    assertThat(ids(results.search(TaskQuery.builder().build())))
        .containsExactly("child-2", "child-1", "t3", "t2", "t1");
    assertThat(ids(results.search(TaskQuery.builder().name("emails.send").build())))
        .containsExactly("t2", "t1");
    assertThat(ids(results.search(TaskQuery.builder().state(TaskState.SUCCESS).build())))
        .containsExactly("child-2", "t3", "t1");
    assertThat(ids(results.search(TaskQuery.builder().queue("default").build())))
        .containsExactly("child-2", "child-1", "t3");
    assertThat(ids(results.search(TaskQuery.builder().parentId("parent-1").build())))
        .containsExactly("child-2", "child-1");
    assertThat(
            ids(
                results.search(
                    TaskQuery.builder().queue("default").state(TaskState.SUCCESS).build())))
        .containsExactly("child-2", "t3");
    assertThat(ids(results.search(TaskQuery.builder().name("nothing.like.it").build()))).isEmpty();
  }

  @Test
  default void aTimeRangeIsFromInclusiveToExclusive() {
    ResultStore results = backend().results();
    storeSample(results);
    Instant now = clock().instant();

    TaskQuery range =
        TaskQuery.builder().from(now.minusMillis(4000)).to(now.minusMillis(2000)).build();

    assertThat(ids(results.search(range))).containsExactly("t3", "t2");
    assertThat(results.count(range)).isEqualTo(2);
  }

  @Test
  default void countsMatchTheFilters() {
    ResultStore results = backend().results();
    storeSample(results);

    assertThat(results.count(TaskQuery.builder().build())).isEqualTo(5);
    assertThat(results.count(TaskQuery.builder().state(TaskState.SUCCESS).build())).isEqualTo(3);
    assertThat(
            results.count(TaskQuery.builder().name("emails.send").state(TaskState.FAILURE).build()))
        .isEqualTo(1);
    assertThat(results.count(TaskQuery.builder().limit(1).after("1:x").build()))
        .as("cursor and limit are ignored")
        .isEqualTo(5);
  }

  @Test
  default void pagesFollowTheCursorWithoutGapsOrRepeatsWhileNewStatusesArrive() {
    ResultStore results = backend().results();
    List<TaskStatus> batch = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      // three share each millisecond, so ties are broken by id
      batch.add(status(String.format("task-%02d", i), "n", TaskState.SUCCESS, "q", 1000 - i / 3));
    }
    results.putAll(batch, TTL);

    List<String> seen = new ArrayList<>();
    String after = null;
    int pages = 0;
    do {
      TaskPage page = results.search(TaskQuery.builder().limit(7).after(after).build());
      seen.addAll(ids(page));
      after = page.next();
      pages++;
      // a status written while paging is newer than the cursor: it never shows up behind it
      results.put(status("late-" + pages, "n", TaskState.SUCCESS, "q", 0), TTL);
    } while (after != null && pages < 10);

    assertThat(pages).isEqualTo(4);
    assertThat(seen).hasSize(25).doesNotHaveDuplicates().noneMatch(id -> id.startsWith("late"));
    assertThat(seen.get(0)).isEqualTo("task-24");
    assertThat(seen.subList(0, 3)).containsExactly("task-24", "task-23", "task-22");
  }

  @Test
  default void aStatusIsFoundOnlyUnderItsCurrentState() {
    ResultStore results = backend().results();
    TaskStatus received = status("t1", "emails.send", TaskState.RECEIVED, "email", 2000);
    results.put(received, TTL);
    results.put(received.withState(TaskState.SUCCESS, clock().instant()), TTL);

    assertThat(ids(results.search(TaskQuery.builder().state(TaskState.RECEIVED).build())))
        .isEmpty();
    assertThat(ids(results.search(TaskQuery.builder().state(TaskState.SUCCESS).build())))
        .containsExactly("t1");
    assertThat(results.count(TaskQuery.builder().build())).isEqualTo(1);
    assertThat(results.search(TaskQuery.builder().build()).tasks().get(0).state())
        .isEqualTo(TaskState.SUCCESS);
  }

  @Test
  default void expiredStatusesAreNeitherFoundNorCounted() {
    ResultStore results = backend().results();
    results.put(status("short", "n", TaskState.SUCCESS, "q", 0), Duration.ofMinutes(1));
    results.put(status("long", "n", TaskState.SUCCESS, "q", 10), TTL);

    clock().advance(Duration.ofMinutes(2));

    assertThat(ids(results.search(TaskQuery.builder().state(TaskState.SUCCESS).build())))
        .containsExactly("long");
    assertThat(results.count(TaskQuery.builder().name("n").build())).isEqualTo(1);
  }

  @Test
  default void countByTimeCountsEachBucketInOneCallWithEveryFilter() {
    ResultStore results = backend().results();
    storeSample(results);
    Instant now = clock().instant();
    // five buckets of 2 s ending now: t1 (-5 s) in bucket 2, t2 and t3 (-4, -3 s) in 3, child-1
    // and child-2 (-2, -1 s) in 4; buckets 0 and 1 are empty
    TimeBuckets buckets = TimeBuckets.ending(now, Duration.ofSeconds(10), Duration.ofSeconds(2));

    assertThat(results.countByTime(TaskQuery.builder().build(), buckets))
        .containsExactly(0, 0, 1, 2, 2);
    assertThat(results.countByTime(TaskQuery.builder().state(TaskState.SUCCESS).build(), buckets))
        .containsExactly(0, 0, 1, 1, 1);
    assertThat(results.countByTime(TaskQuery.builder().queue("default").build(), buckets))
        .containsExactly(0, 0, 0, 1, 2);
    assertThat(
            results.countByTime(
                TaskQuery.builder().queue("default").state(TaskState.SUCCESS).build(), buckets))
        .as("two filters")
        .containsExactly(0, 0, 0, 1, 1);
    assertThat(
            results.countByTime(
                TaskQuery.builder()
                    .name("reports.part")
                    .parentId("parent-1")
                    .state(TaskState.STARTED)
                    .build(),
                buckets))
        .as("three filters")
        .containsExactly(0, 0, 0, 0, 1);
    assertThat(
            results.countByTime(
                TaskQuery.builder().from(now.minusMillis(3000)).to(now.minusMillis(1000)).build(),
                buckets))
        .as("from and to cut into the buckets")
        .containsExactly(0, 0, 0, 1, 1);
    assertThat(results.countByTime(TaskQuery.builder().name("nothing.like.it").build(), buckets))
        .containsExactly(0, 0, 0, 0, 0);
  }

  @Test
  default void countByTimeBucketsAreStartInclusiveEndExclusiveAndAgreeWithCount() {
    ResultStore results = backend().results();
    Instant start = clock().instant().minusSeconds(60);
    List<TaskStatus> batch = new ArrayList<>();
    // on every bucket edge, one ms after it and one ms before the end
    for (int i = 0; i < 6; i++) {
      Instant edge = start.plusSeconds(10L * i);
      batch.add(status("on-" + i, "n", TaskState.SUCCESS, "q", msAgo(edge)));
      batch.add(status("after-" + i, "n", TaskState.FAILURE, "q", msAgo(edge) - 1));
      batch.add(status("before-" + i, "n", TaskState.SUCCESS, "q", msAgo(edge) + 1));
    }
    results.putAll(batch, TTL);
    TimeBuckets buckets = TimeBuckets.of(start, Duration.ofSeconds(10), 5);

    long[] all = results.countByTime(TaskQuery.builder().build(), buckets);

    // bucket 0 holds on-0 and after-0 and before-1; the edge of bucket 5 is outside
    assertThat(all).containsExactly(3, 3, 3, 3, 3);
    long[] succeeded =
        results.countByTime(TaskQuery.builder().state(TaskState.SUCCESS).build(), buckets);
    assertThat(succeeded).containsExactly(2, 2, 2, 2, 2);
    for (int i = 0; i < buckets.count(); i++) {
      TaskQuery one =
          TaskQuery.builder()
              .state(TaskState.SUCCESS)
              .from(buckets.bucketStart(i))
              .to(buckets.bucketStart(i + 1))
              .build();
      assertThat(succeeded[i]).as("bucket %d against count()", i).isEqualTo(results.count(one));
    }
  }

  @Test
  default void countByTimeLeavesOutExpiredStatuses() {
    ResultStore results = backend().results();
    results.put(status("short", "n", TaskState.SUCCESS, "q", 0), Duration.ofMinutes(1));
    results.put(status("long", "n", TaskState.SUCCESS, "q", 10), TTL);
    clock().advance(Duration.ofMinutes(2));
    TimeBuckets buckets =
        TimeBuckets.ending(clock().instant(), Duration.ofMinutes(4), Duration.ofMinutes(1));

    assertThat(results.countByTime(TaskQuery.builder().build(), buckets))
        .containsExactly(0, 1, 0, 0);
    assertThat(results.countByTime(TaskQuery.builder().name("n").build(), buckets))
        .containsExactly(0, 1, 0, 0);
  }

  @Test
  default void badQueriesAreRefused() {
    assertThatThrownBy(() -> TaskQuery.builder().limit(0).build())
        .hasMessageContaining("limit must be 1-1000 but was 0");
    assertThatThrownBy(() -> TaskQuery.builder().after("nonsense").build())
        .hasMessageContaining("'nonsense'");
    Instant now = clock().instant();
    assertThatThrownBy(() -> TimeBuckets.of(now, Duration.ofMinutes(1), 0))
        .hasMessageContaining("bucket count must be 1-10000 but was 0");
    assertThatThrownBy(() -> TimeBuckets.of(now, Duration.ofNanos(1500), 3))
        .hasMessageContaining("PT0.0000015S");
    assertThatThrownBy(() -> TimeBuckets.ending(now, Duration.ofMinutes(5), Duration.ofMinutes(2)))
        .hasMessageContaining("PT5M by PT2M");
  }
}
