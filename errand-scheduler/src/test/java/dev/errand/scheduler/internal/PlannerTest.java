package dev.errand.scheduler.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleState;
import dev.errand.scheduler.internal.Planner.Plan;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlannerTest {

  static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  static final Duration GRACE = Duration.ofSeconds(1);

  static Schedule.Builder everyMinute() {
    return Schedule.builder("s").task("reports.run").every(Duration.ofMinutes(1));
  }

  static ScheduleState fresh() {
    return ScheduleState.created(T0);
  }

  static Instant min(int m) {
    return T0.plus(Duration.ofMinutes(m));
  }

  @Test
  void nothingFiresBeforeTheFirstTick() {
    Plan p = Planner.plan(everyMinute().build(), fresh(), T0.plusSeconds(59), GRACE);

    assertThat(p.fires()).isEmpty();
    assertThat(p.state().nextFire()).isEqualTo(min(1));
    assertThat(p.state().totalRuns()).isZero();
  }

  @Test
  void anOnTimeTickFiresAndTheNextIsPlanned() {
    Plan p = Planner.plan(everyMinute().build(), fresh(), min(1).plusMillis(30), GRACE);

    assertThat(p.fires()).containsExactly(min(1));
    assertThat(p.state().cursor()).isEqualTo(min(1));
    assertThat(p.state().lastTick()).isEqualTo(min(1));
    assertThat(p.state().nextFire()).isEqualTo(min(2));
    assertThat(p.state().totalRuns()).isEqualTo(1);
    assertThat(p.state().missedTicks()).isZero();
  }

  @Test
  void planningAgainAfterFiringFiresNothing() {
    Schedule s = everyMinute().build();
    Plan first = Planner.plan(s, fresh(), min(1), GRACE);

    Plan again = Planner.plan(s, first.state(), min(1).plusMillis(500), GRACE);

    assertThat(again.fires()).isEmpty();
    assertThat(again.state()).isEqualTo(first.state());
  }

  @Test
  void byDefaultTheLatestMissedTickFiresOnce() {
    Schedule s = everyMinute().build();

    Plan p = Planner.plan(s, fresh(), min(10).plusSeconds(5), GRACE);

    assertThat(s.missedRuns()).isEqualTo(MissedRuns.runOnce());
    assertThat(p.fires()).containsExactly(min(10));
    assertThat(p.state().missedTicks()).isEqualTo(9);
    assertThat(p.state().nextFire()).isEqualTo(min(11));
  }

  @Test
  void skipFiresNoMissedTickButTheOnTimeOne() {
    Schedule s = everyMinute().missedRuns(MissedRuns.skip()).build();

    Plan late = Planner.plan(s, fresh(), min(10).plusSeconds(5), GRACE);
    Plan onTime = Planner.plan(s, fresh(), min(10).plusMillis(500), GRACE);

    assertThat(late.fires()).isEmpty();
    assertThat(late.state().missedTicks()).isEqualTo(10);
    assertThat(late.state().cursor()).isEqualTo(min(10));
    assertThat(late.state().nextFire()).isEqualTo(min(11));
    assertThat(onTime.fires()).containsExactly(min(10));
    assertThat(onTime.state().missedTicks()).isEqualTo(9);
  }

  @Test
  void runOnceFiresTheLatestMissedTick() {
    Schedule s = everyMinute().missedRuns(MissedRuns.runOnce()).build();

    Plan p = Planner.plan(s, fresh(), min(10).plusSeconds(5), GRACE);

    assertThat(p.fires()).containsExactly(min(10));
    assertThat(p.state().totalRuns()).isEqualTo(1);
    assertThat(p.state().missedTicks()).isEqualTo(9);
  }

  @Test
  void runOnceAlsoFiresTheOnTimeTick() {
    Schedule s = everyMinute().missedRuns(MissedRuns.runOnce()).build();

    Plan p = Planner.plan(s, fresh(), min(10).plusMillis(200), GRACE);

    assertThat(p.fires()).containsExactly(min(9), min(10));
  }

  @Test
  void catchUpFiresEveryMissedTickUpToItsBoundTheLatestFirst() {
    Plan all =
        Planner.plan(
            everyMinute().missedRuns(MissedRuns.catchUp()).build(),
            fresh(),
            min(10).plusSeconds(5),
            GRACE);
    Plan bounded =
        Planner.plan(
            everyMinute().missedRuns(MissedRuns.catchUp(3)).build(),
            fresh(),
            min(10).plusSeconds(5),
            GRACE);

    assertThat(all.fires()).hasSize(10).startsWith(min(1)).endsWith(min(10));
    assertThat(all.state().missedTicks()).isZero();
    assertThat(bounded.fires()).containsExactly(min(8), min(9), min(10));
    assertThat(bounded.state().missedTicks()).isEqualTo(7);
    assertThat(bounded.state().nextFire()).isEqualTo(min(11));
  }

  @Test
  void theRunLimitStopsTheSchedule() {
    Schedule s = everyMinute().maxRuns(3L).missedRuns(MissedRuns.catchUp()).build();

    Plan p = Planner.plan(s, fresh(), min(10).plusSeconds(5), GRACE);
    Plan later = Planner.plan(s, p.state(), min(60), GRACE);

    assertThat(p.fires()).containsExactly(min(1), min(2), min(3));
    assertThat(p.state().totalRuns()).isEqualTo(3);
    assertThat(p.state().nextFire()).isNull();
    assertThat(later.fires()).isEmpty();
    assertThat(later.state().nextFire()).isNull();
  }

  @Test
  void theLastRunWithinTheLimitLeavesNoNextFire() {
    Schedule s = everyMinute().maxRuns(2L).build();
    Plan first = Planner.plan(s, fresh(), min(1), GRACE);

    Plan second = Planner.plan(s, first.state(), min(2), GRACE);

    assertThat(first.state().nextFire()).isEqualTo(min(2));
    assertThat(second.fires()).containsExactly(min(2));
    assertThat(second.state().nextFire()).isNull();
  }

  @Test
  void noTickAfterTheEndTime() {
    Schedule s = everyMinute().end(min(5)).missedRuns(MissedRuns.catchUp()).build();

    Plan p = Planner.plan(s, fresh(), min(10).plusSeconds(5), GRACE);

    assertThat(p.fires()).containsExactly(min(1), min(2), min(3), min(4), min(5));
    assertThat(p.state().nextFire()).isNull();
  }

  @Test
  void aStartTimeIsTheFirstTickAndTheIntervalAnchor() {
    Schedule s = everyMinute().start(T0.plus(Duration.ofHours(1)).plusSeconds(17)).build();

    Plan before = Planner.plan(s, fresh(), min(30), GRACE);
    Plan atStart = Planner.plan(s, fresh(), s.start(), GRACE);

    assertThat(before.fires()).isEmpty();
    assertThat(before.state().nextFire()).isEqualTo(s.start());
    assertThat(atStart.fires()).containsExactly(s.start());
    assertThat(atStart.state().nextFire()).isEqualTo(s.start().plusSeconds(60));
  }

  @Test
  void aPausedScheduleFiresNothingAndHasNoNextFire() {
    Schedule s = everyMinute().enabled(false).build();

    Plan p = Planner.plan(s, fresh(), min(10), GRACE);

    assertThat(p.fires()).isEmpty();
    assertThat(p.state().nextFire()).isNull();
    assertThat(p.state().cursor()).isEqualTo(T0);
  }

  @Test
  void aOneOffFiresOnceThenIsFinished() {
    Schedule s = Schedule.builder("reminder").task("remind").at(min(90)).build();

    Plan waiting = Planner.plan(s, fresh(), min(89), GRACE);
    Plan fired = Planner.plan(s, fresh(), min(90).plusMillis(3), GRACE);
    Plan after = Planner.plan(s, fired.state(), min(200), GRACE);

    assertThat(waiting.state().nextFire()).isEqualTo(min(90));
    assertThat(fired.fires()).containsExactly(min(90));
    assertThat(fired.state().nextFire()).isNull();
    assertThat(after.fires()).isEmpty();
  }

  @Test
  void aDailyCronCatchesUpAcrossASpringForwardDayFiringThatDayOnce() {
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    Schedule s =
        Schedule.builder("nightly")
            .task("backup")
            .cron("30 2 * * *")
            .zone(berlin)
            .missedRuns(MissedRuns.catchUp())
            .build();
    ScheduleState st = ScheduleState.created(Instant.parse("2026-03-27T12:00:00Z"));

    Plan p = Planner.plan(s, st, Instant.parse("2026-03-30T12:00:00Z"), GRACE);

    assertThat(p.fires())
        .containsExactly(
            Instant.parse("2026-03-28T01:30:00Z"), // 02:30 CET
            Instant.parse("2026-03-29T01:00:00Z"), // 02:30 does not exist: 03:00 CEST, once
            Instant.parse("2026-03-30T00:30:00Z")); // 02:30 CEST
  }

  @Test
  void aScheduleFarBehindSkipsOldStretchesAndCatchesUpTheLatestTicks() {
    Schedule s =
        Schedule.builder("s")
            .task("t")
            .every(Duration.ofSeconds(1))
            .missedRuns(MissedRuns.catchUp(5))
            .build();
    Instant now = T0.plus(Duration.ofDays(2)).plusMillis(1500);
    ScheduleState st = fresh();
    Plan p = Planner.plan(s, st, now, GRACE);
    int passes = 1;
    while (p.fires().isEmpty() && passes < 10) {
      p = Planner.plan(s, p.state(), now, GRACE);
      passes++;
    }

    Instant lastTick = T0.plus(Duration.ofDays(2)).plusSeconds(1);
    assertThat(passes).isGreaterThan(1);
    // the five latest missed ticks, and the last one, which is on time
    assertThat(p.fires())
        .containsExactly(
            lastTick.minusSeconds(5),
            lastTick.minusSeconds(4),
            lastTick.minusSeconds(3),
            lastTick.minusSeconds(2),
            lastTick.minusSeconds(1),
            lastTick);
    assertThat(p.state().missedTicks() + p.state().totalRuns()).isEqualTo(2 * 86_400 + 1);
  }

  @Test
  void nextFireIgnoresTicksBeforeTheCursor() {
    Schedule s = everyMinute().build();
    ScheduleState resumed = fresh().withCursorAtLeast(min(42).plusSeconds(10));

    assertThat(Planner.nextFire(s, resumed)).isEqualTo(min(43));
    assertThat(Planner.nextFire(s.toBuilder().enabled(false).build(), resumed)).isNull();
    assertThat(List.of(Planner.plan(s, resumed, min(42).plusSeconds(30), GRACE).fires()))
        .containsExactly(List.of());
  }
}
