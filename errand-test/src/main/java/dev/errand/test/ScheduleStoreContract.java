package dev.errand.test;

import static dev.errand.test.ContractSupport.PATIENCE;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Schedules with compare-and-set, the change counter and its waiters, and the leader lease. */
interface ScheduleStoreContract extends ContractFixture {

  @Test
  default void createOnlyWhenAbsent() {
    ScheduleStore store = backend().schedules();

    OptionalLong first = store.put("nightly", "{\"a\":1}", 0);
    OptionalLong second = store.put("nightly", "{\"a\":2}", 0);

    assertThat(first).isPresent();
    assertThat(first.getAsLong()).isPositive();
    assertThat(second).isEmpty();
    assertThat(store.get("nightly"))
        .contains(new StoredSchedule("nightly", "{\"a\":1}", first.getAsLong()));
  }

  @Test
  default void putComparesTheVersion() {
    ScheduleStore store = backend().schedules();
    long v1 = store.put("nightly", "{\"a\":1}", 0).orElseThrow();

    long v2 = store.put("nightly", "{\"a\":2}", v1).orElseThrow();
    OptionalLong stale = store.put("nightly", "{\"a\":3}", v1);

    assertThat(v2).isGreaterThan(v1);
    assertThat(stale).isEmpty();
    assertThat(store.get("nightly").orElseThrow().body()).isEqualTo("{\"a\":2}");
    assertThat(store.put("never-created", "{}", v1)).isEmpty();
    assertThat(store.get("never-created")).isEmpty();
  }

  @Test
  default void listIsSortedByNameAndKeepsBodiesIntact() {
    ScheduleStore store = backend().schedules();
    String unicode = "{\"note\":\"nächtlich – 毎晩 \\\"quoted\\\"\",\"n\":" + "9".repeat(5000) + "}";
    store.put("b-report", "{\"b\":1}", 0);
    store.put("a-backup", unicode, 0);
    store.put("c-cleanup", "{\"c\":1}", 0);

    List<StoredSchedule> all = store.list();

    assertThat(all)
        .extracting(StoredSchedule::name)
        .containsExactly("a-backup", "b-report", "c-cleanup");
    assertThat(all.get(0).body()).isEqualTo(unicode);
  }

  @Test
  default void deleteByVersionOrWhateverTheVersion() {
    ScheduleStore store = backend().schedules();
    long v1 = store.put("a", "{}", 0).orElseThrow();
    store.put("b", "{}", 0);

    assertThat(store.delete("a", v1 + 1000)).isFalse();
    assertThat(store.delete("a", v1)).isTrue();
    assertThat(store.delete("a", 0)).isFalse();
    assertThat(store.delete("b", 0)).isTrue();
    assertThat(store.list()).isEmpty();
  }

  @Test
  default void versionsKeepRisingAcrossDeleteAndRecreate() {
    ScheduleStore store = backend().schedules();
    long v1 = store.put("a", "{\"gen\":1}", 0).orElseThrow();
    store.delete("a", v1);

    long v2 = store.put("a", "{\"gen\":2}", 0).orElseThrow();

    assertThat(v2).isGreaterThan(v1);
    assertThat(store.put("a", "{\"gen\":3}", v1)).as("a write based on the deleted one").isEmpty();
  }

  @Test
  default void changesCountWritesAndDeletesButNotRefusedWrites() {
    ScheduleStore store = backend().schedules();
    long c0 = store.changes();

    long v1 = store.put("a", "{}", 0).orElseThrow();
    long c1 = store.changes();
    store.put("a", "{}", v1 + 1000);
    long afterRefused = store.changes();
    store.delete("a", 0);
    long c2 = store.changes();

    assertThat(c1).isNotEqualTo(c0);
    assertThat(afterRefused).isEqualTo(c1);
    assertThat(c2).isNotEqualTo(c1);
  }

  @Test
  default void concurrentCompareAndSetLosesNoUpdate() throws Exception {
    ScheduleStore store = backend().schedules();
    store.put("counter", "0", 0);
    int threads = 4;
    int each = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    while (true) {
                      StoredSchedule s = store.get("counter").orElseThrow();
                      String next = Integer.toString(Integer.parseInt(s.body()) + 1);
                      if (store.put("counter", next, s.version()).isPresent()) {
                        break;
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(PATIENCE.toMillis(), MILLISECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(store.get("counter").orElseThrow().body())
        .isEqualTo(Integer.toString(threads * each));
  }

  @Test
  default void awaitChangeIsWokenByAWrite() throws Exception {
    ScheduleStore store = backend().schedules();
    long seen = store.changes();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Long> waiter = pool.submit(() -> store.awaitChange(seen, Duration.ofSeconds(50)));
      await().during(Duration.ofMillis(200)).atMost(PATIENCE).until(() -> !waiter.isDone());

      store.put("a", "{}", 0);

      assertThat(waiter.get(PATIENCE.toMillis(), MILLISECONDS)).isNotEqualTo(seen);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void awaitChangeReturnsAtOnceWhenAlreadyChangedAndAfterItsTimeout() throws Exception {
    ScheduleStore store = backend().schedules();
    long seen = store.changes();
    assertThat(store.awaitChange(seen, Duration.ofMillis(50))).isEqualTo(seen);

    store.put("a", "{}", 0);

    assertThat(store.awaitChange(seen, Duration.ofSeconds(50))).isNotEqualTo(seen);
  }

  @Test
  default void oneLeaderUntilItsLeaseExpires() {
    ScheduleStore store = backend().schedules();
    Duration ttl = Duration.ofSeconds(10);

    assertThat(store.lead("beat", "a", ttl)).isTrue();
    assertThat(store.lead("beat", "b", ttl)).isFalse();
    assertThat(store.leader("beat"))
        .contains(new ScheduleStore.Lease("a", clock().instant().plus(ttl)));

    clock().advance(Duration.ofSeconds(11));
    assertThat(store.leader("beat")).isEmpty();
    assertThat(store.lead("beat", "b", ttl)).isTrue();
    assertThat(store.leader("beat").orElseThrow().holder()).isEqualTo("b");
    assertThat(store.lead("beat", "a", ttl)).as("the old leader, back from a pause").isFalse();
  }

  @Test
  default void theLeaderRenewsByLeadingAgain() {
    ScheduleStore store = backend().schedules();
    Duration ttl = Duration.ofSeconds(10);
    store.lead("beat", "a", ttl);

    for (int i = 0; i < 5; i++) {
      clock().advance(Duration.ofSeconds(6));
      assertThat(store.lead("beat", "a", ttl)).isTrue();
      assertThat(store.lead("beat", "b", ttl)).isFalse();
    }
    assertThat(store.leader("beat").orElseThrow().expiresAt())
        .isEqualTo(clock().instant().plus(ttl));
  }

  @Test
  default void resignHandsOverAtOnceButOnlyByTheHolder() {
    ScheduleStore store = backend().schedules();
    Duration ttl = Duration.ofSeconds(10);
    store.lead("beat", "a", ttl);

    store.resign("beat", "b");
    assertThat(store.lead("beat", "b", ttl)).isFalse();

    store.resign("beat", "a");
    assertThat(store.leader("beat")).isEmpty();
    assertThat(store.lead("beat", "b", ttl)).isTrue();
  }

  @Test
  default void groupsHaveTheirOwnLeaders() {
    ScheduleStore store = backend().schedules();
    Duration ttl = Duration.ofSeconds(10);

    assertThat(store.lead("beat", "a", ttl)).isTrue();
    assertThat(store.lead("reports", "b", ttl)).isTrue();

    assertThat(store.leader("beat").orElseThrow().holder()).isEqualTo("a");
    assertThat(store.leader("reports").orElseThrow().holder()).isEqualTo("b");
  }
}
