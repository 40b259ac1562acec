package dev.errand.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.memory.InMemoryBackend;
import dev.errand.scheduler.internal.BeatLoop;
import dev.errand.scheduler.internal.Firing;
import dev.errand.spi.Delivery;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import dev.errand.test.MutableClock;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scheduler's passes on a controlled clock: leading, firing, failover, two leaders. */
class BeatLoopTest {

  static final Duration FAILOVER = Duration.ofSeconds(10);
  static final Duration GRACE = Duration.ofSeconds(1);

  final MutableClock clock = new MutableClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).sentEvents(false).build();
  final Schedules schedules = Schedules.create(client, clock);

  @AfterEach
  void close() throws Exception {
    backend.close();
  }

  BeatLoop loop(String name) {
    return loop(name, backend.schedules());
  }

  BeatLoop loop(String name, ScheduleStore store) {
    return new BeatLoop(store, client, clock, clock, "beat", name, FAILOVER, GRACE);
  }

  Schedule everyMinute(MissedRuns missed) {
    return Schedule.builder("sync")
        .task("crm.sync")
        .args(Wire.mapper().createArrayNode().add(7))
        .every(Duration.ofMinutes(1))
        .queue("sched")
        .missedRuns(missed)
        .build();
  }

  /** The ticks of the messages in the queue, in enqueue order. */
  List<Instant> sentTicks() throws Exception {
    List<Instant> ticks = new ArrayList<>();
    for (Delivery d :
        backend.broker().claim(List.of("sched"), 10_000, Duration.ofMinutes(5), Duration.ZERO)) {
      TaskMessage m = Wire.decodeMessage(d.body());
      assertThat(m.task()).isEqualTo("crm.sync");
      assertThat(m.args().get(0).asInt()).isEqualTo(7);
      assertThat(m.headers()).containsEntry(Firing.SCHEDULE_HEADER, "sync");
      ticks.add(Instant.parse(m.headers().get(Firing.TICK_HEADER)));
    }
    return ticks;
  }

  @Test
  void theLeaderFiresEachTickOnceAndTheStandbyNone() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.skip()));
    BeatLoop a = loop("a");
    BeatLoop b = loop("b");

    // nothing due: wake to renew the 8 s lease at a third of it
    assertThat(a.pass()).isEqualTo(t0.plus(Duration.ofSeconds(8).dividedBy(3)));
    b.pass();
    for (int i = 1; i <= 3; i++) {
      clock.set(t0.plusSeconds(60L * i).plusMillis(20));
      a.pass();
      b.pass();
      a.pass();
    }

    assertThat(a.leading()).isTrue();
    assertThat(b.leading()).isFalse();
    assertThat(sentTicks())
        .containsExactly(t0.plusSeconds(60), t0.plusSeconds(120), t0.plusSeconds(180));
    ScheduleState st = schedules.get("sync").orElseThrow().state();
    assertThat(st.totalRuns()).isEqualTo(3);
    assertThat(st.lastTick()).isEqualTo(t0.plusSeconds(180));
    assertThat(st.nextFire()).isEqualTo(t0.plusSeconds(240));
    assertThat(st.lastTaskId()).isNotNull();
  }

  @Test
  void theLeaderSleepsUntilTheNextTick() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.skip()).toBuilder().every(Duration.ofSeconds(2)).build());
    BeatLoop a = loop("a");

    assertThat(a.pass()).isEqualTo(t0.plusSeconds(2));
  }

  @Test
  void aStandbyTakesOverWithinTheFailoverAndCatchesUpEveryMissedTick() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.catchUp()));
    BeatLoop a = loop("a");
    BeatLoop b = loop("b");
    a.pass(); // a leads, then dies: it never passes again

    clock.advance(Duration.ofSeconds(7));
    b.pass();
    assertThat(b.leading()).as("a's lease is still live").isFalse();
    clock.advance(Duration.ofSeconds(1)); // 8 s after a last renewed: within the 10 s bound
    b.pass();
    assertThat(b.leading()).isTrue();

    clock.set(t0.plus(Duration.ofMinutes(5)).plusSeconds(30)); // b was down too: 5 ticks missed
    b.pass();
    assertThat(sentTicks()).hasSize(5).startsWith(t0.plusSeconds(60)).endsWith(t0.plusSeconds(300));
  }

  @Test
  void aNightlyTickMissedDuringADeployRunsOnceWhenABeatComesBackWithDefaultSettings()
      throws Exception {
    // MutableClock starts at 2026-01-01T00:00:00Z; the backup runs at 02:00 UTC.
    Instant t0 = clock.instant();
    schedules.add(Schedule.builder("backup").task("db.backup").cron("0 2 * * *").build());
    BeatLoop old = loop("old");
    clock.set(t0.plus(Duration.ofMinutes(110))); // 01:50
    old.pass(); // leads; then the deploy stops it and no beat runs over 02:00

    clock.set(t0.plus(Duration.ofMinutes(140))); // 02:20: the new version's beat starts
    BeatLoop next = loop("next");
    next.pass();
    next.pass();
    clock.advance(Duration.ofMinutes(1));
    next.pass();

    assertThat(ticksSentTo("default", "db.backup"))
        .as("the missed 02:00 backup, once")
        .containsExactly(t0.plus(Duration.ofHours(2)));
    ScheduleState st = schedules.get("backup").orElseThrow().state();
    assertThat(st.totalRuns()).isEqualTo(1);
    assertThat(st.missedTicks()).isZero();
    assertThat(st.nextFire()).isEqualTo(t0.plus(Duration.ofHours(26)));
  }

  @Test
  void threeNightsMissedRunTheLatestOnceWithDefaultSettings() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(Schedule.builder("backup").task("db.backup").cron("0 2 * * *").build());

    clock.set(t0.plus(Duration.ofDays(2)).plus(Duration.ofHours(9))); // down over three nights
    loop("a").pass();

    assertThat(ticksSentTo("default", "db.backup"))
        .containsExactly(t0.plus(Duration.ofDays(2)).plus(Duration.ofHours(2)));
    assertThat(schedules.get("backup").orElseThrow().state().missedTicks()).isEqualTo(2);
  }

  /** The ticks of the {@code task} messages in {@code queue}, in enqueue order. */
  List<Instant> ticksSentTo(String queue, String task) throws Exception {
    List<Instant> ticks = new ArrayList<>();
    for (Delivery d :
        backend.broker().claim(List.of(queue), 10_000, Duration.ofMinutes(5), Duration.ZERO)) {
      TaskMessage m = Wire.decodeMessage(d.body());
      assertThat(m.task()).isEqualTo(task);
      ticks.add(Instant.parse(m.headers().get(Firing.TICK_HEADER)));
    }
    return ticks;
  }

  @Test
  void aLeaderJudgesItsLeaseByTheBackendsClockNotByTheClockOfItsTicks() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.skip()).toBuilder().every(Duration.ofSeconds(2)).build());
    MutableClock ticks = new MutableClock(t0); // a's own clock, which falls behind the backend's
    BeatLoop a =
        new BeatLoop(backend.schedules(), client, ticks, clock, "beat", "a", FAILOVER, GRACE);
    a.pass(); // a leads, with an 8 s lease
    clock.advance(Duration.ofSeconds(9)); // by the backend's clock a's lease has lapsed
    assertThat(backend.schedules().lead("beat", "b", Duration.ofSeconds(8))).isTrue();

    ticks.advance(Duration.ofMillis(2_020)); // by its own clock a renewed 2 s ago: a tick is due
    a.pass();
    a.pass();

    assertThat(a.leading()).as("a asked the backend again instead of firing").isFalse();
  }

  @Test
  void aLeaderThatResignsIsReplacedAtTheNextLook() throws Exception {
    BeatLoop a = loop("a");
    BeatLoop b = loop("b");
    a.pass();
    b.pass();
    assertThat(b.leading()).isFalse();

    backend.schedules().resign("beat", "a");
    b.pass();

    assertThat(b.leading()).isTrue();
  }

  @Test
  void twoLeadersAtOnceSendEachTickOnceAndCountItOnce() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.catchUp()));
    // Both believe they lead, as when a paused leader wakes up after a standby took over.
    ScheduleStore everyoneLeads = new AlwaysLeads(backend.schedules());
    BeatLoop a = loop("a", everyoneLeads);
    BeatLoop b = loop("b", everyoneLeads);
    a.pass();
    b.pass();

    for (int i = 1; i <= 5; i++) {
      clock.set(t0.plusSeconds(60L * i));
      b.pass();
      a.pass();
    }
    clock.set(t0.plusSeconds(420));
    a.pass();
    b.pass();

    assertThat(sentTicks()).hasSize(7).doesNotHaveDuplicates();
    assertThat(schedules.get("sync").orElseThrow().state().totalRuns()).isEqualTo(7);
  }

  @Test
  void aPausedScheduleFiresNothingAndResumesFromTheNextTick() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.catchUp()));
    BeatLoop a = loop("a");
    a.pass();
    schedules.pause("sync");
    clock.set(t0.plusSeconds(150));
    a.pass();
    assertThat(schedules.get("sync").orElseThrow().state().nextFire()).isNull();

    schedules.resume("sync");
    clock.set(t0.plusSeconds(180));
    a.pass();

    assertThat(sentTicks()).containsExactly(t0.plusSeconds(180));
  }

  @Test
  void anEditTakesEffectOnTheNextTick() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(everyMinute(MissedRuns.skip()));
    BeatLoop a = loop("a");
    a.pass();

    clock.set(t0.plusSeconds(10));
    schedules.edit("sync", b -> b.every(Duration.ofSeconds(5)).start(t0.plusSeconds(20)));
    assertThat(schedules.get("sync").orElseThrow().state().nextFire())
        .isEqualTo(t0.plusSeconds(20));
    a.pass();
    clock.set(t0.plusSeconds(20));
    a.pass();
    clock.set(t0.plusSeconds(25));
    a.pass();

    assertThat(sentTicks()).containsExactly(t0.plusSeconds(20), t0.plusSeconds(25));
  }

  @Test
  void anUnreadableScheduleDoesNotStopTheOthers() throws Exception {
    Instant t0 = clock.instant();
    backend.schedules().put("broken", "{not json", 0);
    schedules.add(everyMinute(MissedRuns.skip()));
    BeatLoop a = loop("a");

    clock.set(t0.plusSeconds(60));
    a.pass();

    assertThat(sentTicks()).containsExactly(t0.plusSeconds(60));
    assertThat(schedules.list()).extracting(ScheduleEntry::name).containsExactly("sync");
  }

  @Test
  void aTickIsSentWithItsExpiryCountedFromTheTick() throws Exception {
    Instant t0 = clock.instant();
    schedules.add(
        everyMinute(MissedRuns.catchUp()).toBuilder().expires(Duration.ofMinutes(30)).build());
    BeatLoop a = loop("a");
    a.pass();

    clock.set(t0.plusSeconds(600));
    a.pass();

    List<Delivery> sent =
        backend.broker().claim(List.of("sched"), 100, Duration.ofMinutes(1), Duration.ZERO);
    TaskMessage first = Wire.decodeMessage(sent.get(0).body());
    assertThat(first.expires()).isEqualTo(t0.plusSeconds(60).plus(Duration.ofMinutes(30)));
  }

  /** A store on which every candidate wins the lease. */
  record AlwaysLeads(ScheduleStore store) implements ScheduleStore {
    @Override
    public List<StoredSchedule> list() {
      return store.list();
    }

    @Override
    public Optional<StoredSchedule> get(String name) {
      return store.get(name);
    }

    @Override
    public OptionalLong put(String name, String body, long expectedVersion) {
      return store.put(name, body, expectedVersion);
    }

    @Override
    public boolean delete(String name, long expectedVersion) {
      return store.delete(name, expectedVersion);
    }

    @Override
    public long changes() {
      return store.changes();
    }

    @Override
    public long awaitChange(long seen, Duration timeout) throws InterruptedException {
      return store.awaitChange(seen, timeout);
    }

    @Override
    public boolean lead(String group, String candidate, Duration ttl) {
      return true;
    }

    @Override
    public void resign(String group, String candidate) {}

    @Override
    public Optional<Lease> leader(String group) {
      return store.leader(group);
    }
  }
}
