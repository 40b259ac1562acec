package dev.errand.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.ChordPolicy;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.postgres.internal.Pg;
import dev.errand.postgres.internal.PgJanitor;
import dev.errand.postgres.internal.PgScheduleStore;
import dev.errand.postgres.internal.PgWorkflowStore;
import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spi.NewMessage;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.StoredSchedule;
import dev.errand.spi.WorkflowStore.Chord;
import dev.errand.spi.WorkflowStore.ChordState;
import dev.errand.spi.WorkflowStore.Firing;
import dev.errand.test.MutableClock;
import dev.errand.test.TestStatuses;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real concurrency on two backends opened on the same schema, each with its own pool: two
 * processes' worth. Chord counts, leader leases and schedule compare-and-sets must hold when
 * PostgreSQL runs the writers side by side (SQLite would have serialised them). On the database's
 * own clock, as in production.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgConcurrencyTest {

  private static final Duration TTL = Duration.ofHours(1);

  private String schema;
  private final List<PostgresBackend> backends = new ArrayList<>();
  private ExecutorService pool;

  @BeforeEach
  void open() {
    schema = TestPostgres.newSchema();
    backends.add(PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()));
    backends.add(PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()));
    pool = Executors.newFixedThreadPool(2);
  }

  @AfterEach
  void close() {
    pool.shutdownNow();
    backends.forEach(PostgresBackend::close);
    TestPostgres.dropSchema(schema);
  }

  /** The connection helper of backend {@code i}, as its settlements use it. */
  private Pg pg(int i) {
    return new Pg(backends.get(i).dataSource(), schema, null, "backend " + i);
  }

  private PgWorkflowStore workflows(int i) {
    return (PgWorkflowStore) backends.get(i).workflows();
  }

  private static NewMessage callback(String chordId) {
    return new NewMessage(
        "cb-" + chordId, "callbacks", 5, "cb".getBytes(StandardCharsets.UTF_8), null, null, null);
  }

  /** Runs {@code work} once on each of two threads, released together; returns their results. */
  private <T> List<T> race(Callable<T> first, Callable<T> second) throws Exception {
    CyclicBarrier start = new CyclicBarrier(2);
    List<Future<T>> futures = new ArrayList<>();
    for (Callable<T> work : List.of(first, second)) {
      futures.add(
          pool.submit(
              () -> {
                start.await(30, TimeUnit.SECONDS);
                return work.call();
              }));
    }
    List<T> results = new ArrayList<>();
    for (Future<T> f : futures) {
      results.add(f.get(60, TimeUnit.SECONDS));
    }
    return results;
  }

  /** Records {@code indexes} of {@code chordId} one transaction each; returns the callbacks. */
  private List<NewMessage> record(int backend, String chordId, List<Integer> indexes) {
    return record(backend, chordId, indexes, () -> {});
  }

  /** {@link #record} calling {@code afterEach} once each part is committed. */
  private List<NewMessage> record(
      int backend, String chordId, List<Integer> indexes, Runnable afterEach) {
    Pg pg = pg(backend);
    PgWorkflowStore store = workflows(backend);
    List<NewMessage> fired = new ArrayList<>();
    for (int index : indexes) {
      NewMessage cb =
          pg.tx("record", t -> store.record(t, new ChordPart(chordId, index, false), t.now(), TTL));
      if (cb != null) {
        fired.add(cb);
      }
      afterEach.run();
    }
    return fired;
  }

  @Test
  void membersFinishingAtOnceInTwoProcessesFireTheCallbackExactlyOnce() throws Exception {
    int each = 200;
    String chord = UUID.randomUUID().toString();
    workflows(0).putChord(new Chord(chord, 2 * each, ChordPolicy.FAIL, callback(chord)), TTL);
    List<Integer> evens = new ArrayList<>();
    List<Integer> odds = new ArrayList<>();
    for (int i = 0; i < each; i++) {
      evens.add(2 * i);
      odds.add(2 * i + 1);
    }
    // Each also records 50 of the other's members again, at about the same time as the other.
    List<Integer> first = new ArrayList<>(evens);
    List<Integer> second = new ArrayList<>(odds);
    for (int i = 0; i < 50; i++) {
      first.add(4 * i, odds.get(i));
      second.add(4 * i, evens.get(i));
    }

    List<List<NewMessage>> fired =
        race(() -> record(0, chord, first), () -> record(1, chord, second));

    assertThat(fired.get(0).size() + fired.get(1).size()).as("callbacks fired").isEqualTo(1);
    NewMessage cb = fired.get(0).isEmpty() ? fired.get(1).get(0) : fired.get(0).get(0);
    assertThat(cb.id()).isEqualTo("cb-" + chord);
    ChordState state = workflows(1).chord(chord).orElseThrow();
    assertThat(state.finished()).isEqualTo(2 * each);
    assertThat(state.failed()).isZero();
    assertThat(state.firing()).isEqualTo(Firing.ALL_SUCCEEDED);
    assertThat(parts(chord)).isEqualTo(2 * each);
  }

  @Test
  void aChordStoredWhilePartsAreRecordedCountsEveryPart() throws Exception {
    int size = 200;
    for (int round = 0; round < 5; round++) {
      // Stored after 0, 40, 80, 120 and 160 parts are committed, while the rest are recorded.
      CountDownLatch recorded = new CountDownLatch(round * 40);
      String chord = UUID.randomUUID().toString();
      List<Integer> indexes = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        indexes.add(i);
      }
      Collections.shuffle(indexes);

      List<List<NewMessage>> fired =
          race(
              () -> record(0, chord, indexes, recorded::countDown),
              () -> {
                recorded.await(30, TimeUnit.SECONDS);
                workflows(1)
                    .putChord(new Chord(chord, size, ChordPolicy.FAIL, callback(chord)), TTL);
                return List.of();
              });

      ChordState state = workflows(0).chord(chord).orElseThrow();
      assertThat(state.finished()).as("round " + round).isEqualTo(size);
      // The last part fires it unless every part was recorded before the chord was stored.
      assertThat(fired.get(0).size()).isEqualTo(state.firing() == Firing.NOT_YET ? 0 : 1);
    }
  }

  private long parts(String chordId) {
    return pg(0)
        .read(
            "count parts",
            t -> {
              var ps = t.prepare("SELECT count(*) FROM {s}.chord_parts WHERE chord_id = ?");
              ps.setString(1, chordId);
              try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
              }
            });
  }

  @Test
  void twoSchedulersRacingForTheLeaseExactlyOneWinsPerTerm() throws Exception {
    ScheduleStore a = backends.get(0).schedules();
    ScheduleStore b = backends.get(1).schedules();
    Duration shortTtl = Duration.ofSeconds(1);
    for (int term = 0; term < 30; term++) {
      // Most terms end by resigning, every third by the lease running out on the database's clock.
      boolean expires = term % 3 == 2;
      Duration ttl = expires ? shortTtl : TTL;
      List<Boolean> won = race(() -> a.lead("beat", "a", ttl), () -> b.lead("beat", "b", ttl));

      assertThat(won).as("term " + term).containsExactlyInAnyOrder(true, false);
      String winner = won.get(0) ? "a" : "b";
      ScheduleStore winnerStore = won.get(0) ? a : b;
      ScheduleStore loserStore = won.get(0) ? b : a;
      String loser = won.get(0) ? "b" : "a";
      assertThat(a.leader("beat").orElseThrow().holder()).isEqualTo(winner);
      assertThat(b.leader("beat").orElseThrow().holder()).isEqualTo(winner);
      assertThat(loserStore.lead("beat", loser, ttl)).isFalse();
      assertThat(winnerStore.lead("beat", winner, ttl)).as("renewal").isTrue();
      if (!expires) {
        winnerStore.resign("beat", winner);
      } else {
        await().atMost(Duration.ofSeconds(10)).until(() -> a.leader("beat").isEmpty());
      }
      assertThat(b.leader("beat")).isEmpty();
    }
  }

  @Test
  void schedulesWrittenByTwoProcessesAtOnceKeepCompareAndSet() throws Exception {
    ScheduleStore a = backends.get(0).schedules();
    ScheduleStore b = backends.get(1).schedules();
    for (int i = 0; i < 20; i++) {
      String name = "s" + i;
      List<OptionalLong> created =
          race(() -> a.put(name, "\"a\"", 0), () -> b.put(name, "\"b\"", 0));
      assertThat(created.stream().filter(OptionalLong::isPresent).count())
          .as("creations of " + name)
          .isEqualTo(1);
    }

    a.put("counter", "0", 0);
    Set<Long> versions = ConcurrentHashMap.newKeySet();
    race(() -> increment(a, 100, versions), () -> increment(b, 100, versions));

    assertThat(a.get("counter").orElseThrow().body()).isEqualTo("200");
    assertThat(versions).hasSize(200);
    assertThat(b.changes()).isEqualTo(a.changes()).isGreaterThanOrEqualTo(220);
  }

  /** Adds 1 to the counter's body {@code times} times, by compare-and-set. */
  private static int increment(ScheduleStore store, int times, Set<Long> versions) {
    for (int i = 0; i < times; i++) {
      while (true) {
        StoredSchedule s = store.get("counter").orElseThrow();
        String next = Integer.toString(Integer.parseInt(s.body()) + 1);
        OptionalLong v = store.put("counter", next, s.version());
        if (v.isPresent()) {
          assertThat(versions.add(v.getAsLong())).as("version given once").isTrue();
          break;
        }
      }
    }
    return times;
  }

  @Test
  void resultsWrittenByAnotherProcessWakeItsWaiters() throws Exception {
    // The first waits start while LISTEN is not yet in effect: results written then are found by
    // the look that follows it; later ones by their notification.
    for (int i = 0; i < 20; i++) {
      String id = "r-" + i + "-" + UUID.randomUUID();
      CompletableFuture<TaskStatus> waiting = backends.get(1).results().whenReady(id);
      backends
          .get(0)
          .results()
          .put(TestStatuses.status(id, "t", TaskState.SUCCESS, "q", Instant.now()), TTL);
      assertThat(waiting.get(10, TimeUnit.SECONDS).state()).as(id).isEqualTo(TaskState.SUCCESS);
    }
  }

  @Test
  void purgeDeletesOnlyExpiredRows() {
    MutableClock clock = new MutableClock();
    Pg pg = new Pg(backends.get(0).dataSource(), schema, clock, "test clock");
    PgWorkflowStore workflows = new PgWorkflowStore(pg);
    PgScheduleStore schedules = new PgScheduleStore(pg);
    PgJanitor janitor = new PgJanitor(pg);
    String chord = "c-" + UUID.randomUUID();
    workflows.putGroup("g-short", List.of("x"), Duration.ofMinutes(1));
    workflows.putGroup("g-long", List.of("y"), Duration.ofHours(2));
    workflows.putSteps("s-short", new byte[] {1}, Duration.ofMinutes(1));
    workflows.putChord(
        new Chord(chord, 3, ChordPolicy.FAIL, callback(chord)), Duration.ofMinutes(1));
    pg.tx("record", t -> workflows.record(t, new ChordPart(chord, 0, false), t.now(), TTL));
    pg.tx("record", t -> workflows.record(t, new ChordPart("orphan", 0, true), t.now(), TTL));
    schedules.lead("beat", "a", Duration.ofMinutes(1));

    assertThat(janitor.purge()).isZero();

    clock.advance(Duration.ofMinutes(2));
    assertThat(janitor.purge())
        .as("g-short, s-short, the chord and its part, the leader lease")
        .isEqualTo(5);
    assertThat(workflows.group("g-long")).isPresent();
    assertThat(workflows.chord(chord)).isEmpty();
    assertThat(schedules.leader("beat")).isEmpty();

    clock.advance(Duration.ofHours(3));
    assertThat(janitor.purge()).as("g-long and the orphan part").isEqualTo(2);
  }

  @Test
  void purgeDeletesMoreThanOneBatch() {
    MutableClock clock = new MutableClock();
    Pg pg = new Pg(backends.get(0).dataSource(), schema, clock, "test clock");
    PgJanitor janitor = new PgJanitor(pg);
    int rows = PgJanitor.BATCH + 5;
    pg.tx(
        "expired parts",
        t -> {
          var ps =
              t.prepare(
                  "INSERT INTO {s}.chord_parts (chord_id, idx, failed, expires_at)"
                      + " SELECT 'many', i, false, {now} - 1 FROM generate_series(1, ?) i");
          ps.setInt(1, rows);
          return ps.executeUpdate();
        });

    assertThat(janitor.purge()).isEqualTo(rows);
    assertThat(janitor.purge()).isZero();
  }
}
