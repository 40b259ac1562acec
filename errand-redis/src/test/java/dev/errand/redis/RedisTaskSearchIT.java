package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.redis.testing.RedisServerProcess;
import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.test.MutableClock;
import dev.errand.test.TestStatuses;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Redis task index beyond the contract: its keys, ties, moved cursors, long walks. */
class RedisTaskSearchIT {

  static final Duration DAY = Duration.ofDays(1);

  final MutableClock clock = new MutableClock();
  String prefix;
  RedisBackend backend;
  ResultStore results;

  @BeforeEach
  void open() {
    prefix = TestRedis.newPrefix();
    backend = RedisBackend.open(TestRedis.url(prefix, ""), clock);
    results = backend.results();
  }

  @AfterEach
  void close() {
    backend.close();
    TestRedis.deleteKeys(prefix);
  }

  TaskStatus status(String id, String name, TaskState state, String queue, long time) {
    return TestStatuses.status(id, name, state, queue, Instant.ofEpochMilli(time));
  }

  static List<String> ids(TaskPage page) {
    return page.tasks().stream().map(TaskStatus::id).toList();
  }

  /** Every page of {@code query}, followed by cursor. */
  List<String> allPages(TaskQuery query) {
    List<String> seen = new ArrayList<>();
    String after = null;
    do {
      TaskPage page = results.search(query.toBuilder().after(after).build());
      seen.addAll(ids(page));
      after = page.next();
    } while (after != null);
    return seen;
  }

  @Test
  void expiredStatusesLeaveEveryIndexKey() {
    long now = clock.millis();
    results.putAll(
        List.of(
            status("a", "n1", TaskState.SUCCESS, "q1", now),
            status("b", "n2", TaskState.FAILURE, "q2", now).withCall("parent-1", null, null)),
        Duration.ofMinutes(1));
    results.put(status("c", "n1", TaskState.SUCCESS, "q1", now), DAY);
    assertThat(indexKeys()).hasSize(9);

    clock.advance(Duration.ofMinutes(2));

    assertThat(results.count(TaskQuery.builder().build())).isEqualTo(1);
    assertThat(indexKeys())
        .as("the sets of n2, q2, FAILURE and parent-1 held only the expired b")
        .containsExactlyInAnyOrder(
            prefix + ":{tasks}:meta",
            prefix + ":{tasks}:expiry",
            prefix + ":{tasks}:state:SUCCESS",
            prefix + ":{tasks}:name:n1",
            prefix + ":{tasks}:queue:q1");
    TestRedis.withRedis(
        r -> {
          assertThat(r.hkeys(prefix + ":{tasks}:meta")).containsExactly("c");
          assertThat(r.zrange(prefix + ":{tasks}:state:SUCCESS", 0, -1)).containsExactly("c");
        });
  }

  @Test
  void writesTrimExpiredIdsAsTheyGo() {
    long now = clock.millis();
    List<TaskStatus> old = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      old.add(status("old-" + i, "n", TaskState.SUCCESS, "q", now));
    }
    results.putAll(old, Duration.ofMinutes(1));
    clock.advance(Duration.ofMinutes(2));

    results.put(status("new", "n", TaskState.SUCCESS, "q", clock.millis()), DAY);

    TestRedis.withRedis(
        r ->
            assertThat(r.zcard(prefix + ":{tasks}:expiry"))
                .as("1 + 64 trimmed")
                .isEqualTo(100 - 64));
    assertThat(results.count(TaskQuery.builder().name("n").build())).isEqualTo(1);
  }

  @Test
  void aPageContinuesAfterACursorWhoseTaskMovedOnOrExpired() {
    long t = clock.millis() - 10_000;
    List<TaskStatus> batch = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      batch.add(status("t" + i, "n", TaskState.STARTED, "q", t + i / 3)); // three per millisecond
    }
    results.putAll(batch, DAY);
    TaskPage first = results.search(TaskQuery.builder().limit(4).build());
    assertThat(ids(first)).containsExactly("t8", "t7", "t6", "t5");

    // t5 (the cursor) finishes: it moves to the top of the index, its old place is gone
    results.put(status("t5", "n", TaskState.SUCCESS, "q", clock.millis()), DAY);

    assertThat(ids(results.search(TaskQuery.builder().limit(4).after(first.next()).build())))
        .containsExactly("t4", "t3", "t2", "t1");
    assertThat(ids(results.search(TaskQuery.builder().after(t + 1 + ":t35").build())))
        .as("a cursor id that never existed sorts between t3 and t4")
        .containsExactly("t3", "t2", "t1", "t0");
  }

  @Test
  void statusesOfOneMillisecondPageByIdAcrossChunksAndStates() {
    long t = clock.millis() - 1000;
    List<TaskStatus> batch = new ArrayList<>();
    TaskState[] states = {TaskState.SUCCESS, TaskState.FAILURE, TaskState.STARTED};
    for (int i = 0; i < 2500; i++) {
      batch.add(status(String.format("id-%05d", i), "n", states[i % 3], "q", t));
    }
    results.putAll(batch, DAY);

    List<String> all = allPages(TaskQuery.builder().limit(700).build());
    List<String> named = allPages(TaskQuery.builder().name("n").limit(300).build());

    assertThat(all)
        .as("the state sets merged")
        .hasSize(2500)
        .isSortedAccordingTo(Comparator.reverseOrder());
    assertThat(named).isEqualTo(all);
  }

  @Test
  void aRareCombinationIsFoundAcrossManyBoundedWalks() {
    long t = clock.millis() - 100_000;
    List<TaskStatus> batch = new ArrayList<>();
    // 12,000 statuses: name a with SUCCESS, or name b with FAILURE; both sets hold 6,000
    for (int i = 0; i < 12_000; i++) {
      boolean a = i % 2 == 0;
      batch.add(
          status(
              "x" + i,
              a ? "a" : "b",
              a ? TaskState.SUCCESS : TaskState.FAILURE,
              "q",
              t + 1000 + i));
    }
    // three with name a and FAILURE, the oldest of all: every walk examines 6,000 ids first
    for (int i = 0; i < 3; i++) {
      batch.add(status("rare" + i, "a", TaskState.FAILURE, "q", t + i));
    }
    results.putAll(batch, DAY);
    TaskQuery rare = TaskQuery.builder().name("a").state(TaskState.FAILURE).limit(2).build();

    TaskPage first = results.search(rare);
    assertThat(ids(first)).containsExactly("rare2", "rare1");
    assertThat(ids(results.search(rare.toBuilder().after(first.next()).build())))
        .containsExactly("rare0");
    assertThat(results.count(rare)).isEqualTo(3);
    assertThat(results.count(TaskQuery.builder().name("a").build())).isEqualTo(6003);
    assertThat(
            results.count(
                TaskQuery.builder()
                    .name("b")
                    .from(Instant.ofEpochMilli(t + 1000 + 11_000))
                    .build()))
        .isEqualTo(500);
  }

  @Test
  void filtersMatchValuesWithPatternCharactersExactly() {
    long t = clock.millis();
    String odd = "a.b-c%d [x]*+?^$(ü)";
    results.putAll(
        List.of(
            status("odd", odd, TaskState.SUCCESS, "q:{1}", t - 3),
            status("near", "a.b-c%d [x]*+?^$(u)", TaskState.SUCCESS, "q:{1}", t - 2),
            status("plain", "abxcxd", TaskState.SUCCESS, "q:{1}", t - 1)),
        DAY);

    TaskQuery both = TaskQuery.builder().name(odd).queue("q:{1}").build();

    assertThat(ids(results.search(both))).containsExactly("odd");
    assertThat(results.count(both)).isEqualTo(1);
    assertThat(ids(results.search(TaskQuery.builder().queue("q:{1}").build())))
        .containsExactly("plain", "near", "odd");
  }

  @Test
  void statusesAreIndexedAfterTheServerForgotTheScripts() {
    // SCRIPT FLUSH drops every application's scripts: only on a server of this test's own.
    try (RedisServerProcess server = TestRedis.startPrivate();
        RedisBackend own = RedisBackend.open(server.url(), clock)) {
      ResultStore store = own.results();
      store.put(status("before", "n", TaskState.SUCCESS, "q", clock.millis()), DAY);
      TestRedis.redis(server.url(), r -> r.scriptFlush());

      store.put(status("after", "n", TaskState.SUCCESS, "q", clock.millis() + 1), DAY);

      assertThat(ids(store.search(TaskQuery.builder().build()))).containsExactly("after", "before");
    }
  }

  List<String> indexKeys() {
    List<String> out = new ArrayList<>();
    // SCAN, not KEYS, which would block a shared server for as long as its whole keyspace takes.
    TestRedis.withRedis(
        r ->
            ScanIterator.scan(r, ScanArgs.Builder.matches(prefix + ":{tasks}:*").limit(1000))
                .forEachRemaining(out::add));
    return out;
  }
}
