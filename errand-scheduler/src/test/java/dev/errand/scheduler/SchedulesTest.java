package dev.errand.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.memory.InMemoryBackend;
import dev.errand.scheduler.internal.Firing;
import dev.errand.spi.Delivery;
import dev.errand.test.MutableClock;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The runtime API: add, edit, pause, resume, delete, run now, and schedules deployed from code. */
class SchedulesTest {

  final MutableClock clock = new MutableClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).build();
  final Schedules schedules = Schedules.create(client, clock);

  @AfterEach
  void close() {
    backend.close();
  }

  static Schedule nightly() {
    return Schedule.builder("nightly")
        .task("reports.nightly")
        .args(Wire.mapper().createObjectNode().put("kind", "daily"))
        .cron("0 2 * * *")
        .zone(ZoneId.of("Europe/Berlin"))
        .queue("reports")
        .priority(7)
        .expires(Duration.ofHours(1))
        .maxRuns(100L)
        .missedRuns(MissedRuns.runOnce())
        .build();
  }

  @Test
  void addStoresTheDefinitionWithItsFirstFireTime() {
    ScheduleEntry added = schedules.add(nightly());

    ScheduleEntry read = schedules.get("nightly").orElseThrow();
    assertThat(read.schedule()).isEqualTo(nightly());
    assertThat(read.state().createdAt()).isEqualTo(clock.instant());
    assertThat(read.state().nextFire()).isEqualTo(Instant.parse("2026-01-01T01:00:00Z"));
    assertThat(read.version()).isEqualTo(added.version());
    assertThat(read.definedInCode()).isFalse();
    assertThatThrownBy(() -> schedules.add(nightly()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'nightly' already exists");
  }

  @Test
  void editChangesTheDefinitionAndKeepsTheHistory() {
    schedules.add(nightly());
    clock.advance(Duration.ofHours(30));

    ScheduleEntry edited = schedules.edit("nightly", b -> b.cron("0 3 * * *").priority(2));

    assertThat(edited.schedule().trigger()).isEqualTo(Trigger.cron("0 3 * * *"));
    assertThat(edited.schedule().priority()).isEqualTo(2);
    assertThat(edited.schedule().queue()).isEqualTo("reports");
    assertThat(edited.state().createdAt()).isEqualTo(MutableClock.DEFAULT_START);
    assertThat(edited.state().cursor()).as("ticks count from the edit").isEqualTo(clock.instant());
    assertThat(edited.state().nextFire()).isEqualTo(Instant.parse("2026-01-03T02:00:00Z"));
    assertThatThrownBy(() -> schedules.edit("nope", b -> b))
        .isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("'nope'");
  }

  @Test
  void pauseAndResume() {
    schedules.add(nightly());

    ScheduleEntry paused = schedules.pause("nightly");
    clock.advance(Duration.ofDays(3));
    ScheduleEntry resumed = schedules.resume("nightly");

    assertThat(paused.schedule().enabled()).isFalse();
    assertThat(paused.state().nextFire()).isNull();
    assertThat(paused.finished()).isFalse();
    assertThat(resumed.schedule().enabled()).isTrue();
    assertThat(resumed.state().cursor()).isEqualTo(clock.instant());
    assertThat(resumed.state().nextFire()).isEqualTo(Instant.parse("2026-01-04T01:00:00Z"));
  }

  @Test
  void aOneOffSetAMomentTooLateStillFiresButOneLongPastIsRefused() {
    Instant justNow = clock.instant().minusMillis(400);

    ScheduleEntry late = schedules.add(Schedule.builder("late").task("t").at(justNow).build());

    assertThat(late.state().nextFire()).isEqualTo(justNow);
    assertThatThrownBy(
            () ->
                schedules.add(
                    Schedule.builder("past").task("t").at(justNow.minusSeconds(60)).build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has passed");
    assertThat(
            schedules
                .deploy(Schedule.builder("old").task("t").at(justNow.minusSeconds(60)).build())
                .finished())
        .as("from code: stored as finished, the start-up goes on")
        .isTrue();
  }

  @Test
  void deleteForgets() {
    schedules.add(nightly());

    assertThat(schedules.delete("nightly")).isTrue();
    assertThat(schedules.delete("nightly")).isFalse();
    assertThat(schedules.list()).isEmpty();
  }

  @Test
  void runNowSendsTheTaskWithoutTouchingTheTicks() throws Exception {
    ScheduleEntry before = schedules.add(nightly());

    AsyncResult<JsonNode> sent = schedules.runNow("nightly");

    List<Delivery> d =
        backend.broker().claim(List.of("reports"), 10, Duration.ofMinutes(1), Duration.ZERO);
    assertThat(d).hasSize(1);
    TaskMessage m = Wire.decodeMessage(d.get(0).body());
    assertThat(m.id()).isEqualTo(sent.id());
    assertThat(m.task()).isEqualTo("reports.nightly");
    assertThat(m.kwargs().get("kind").asText()).isEqualTo("daily");
    assertThat(m.priority()).isEqualTo(7);
    assertThat(m.headers()).containsEntry(Firing.SCHEDULE_HEADER, "nightly");
    assertThat(schedules.get("nightly").orElseThrow().state()).isEqualTo(before.state());
  }

  @Test
  void codeDeploysKeepRuntimeEditsUntilTheCodeChanges() {
    schedules.deploy(nightly());
    schedules.pause("nightly");

    ScheduleEntry sameCode = schedules.deploy(nightly());
    assertThat(sameCode.schedule().enabled()).as("the pause survives a restart").isFalse();
    assertThat(sameCode.definedInCode()).isTrue();

    Schedule changed = nightly().toBuilder().cron("15 2 * * *").build();
    ScheduleEntry newCode = schedules.deploy(changed);
    assertThat(newCode.schedule()).isEqualTo(changed);
    assertThat(schedules.deploy(changed).version()).isEqualTo(newCode.version());
  }

  @Test
  void aCodeScheduleWithoutAPolicyIsRestoredWithRunOnceAfterTheDefaultChanged() {
    Schedule plain = Schedule.builder("backup").task("db.backup").cron("0 2 * * *").build();
    // What the code stored while skip was the default: the same definition, with skip.
    Schedule storedBefore = plain.toBuilder().missedRuns(MissedRuns.skip()).build();
    schedules.deploy(storedBefore);
    schedules.pause("backup");

    ScheduleEntry upgraded = schedules.deploy(plain);

    assertThat(upgraded.schedule().missedRuns()).isEqualTo(MissedRuns.runOnce());
    assertThat(upgraded.schedule().enabled()).as("the code's definition, as any change").isTrue();
  }

  @Test
  void aCodeScheduleThatNamesSkipIsLeftAsDeployedBeforeTheDefaultChanged() {
    Schedule skip =
        Schedule.builder("backup")
            .task("db.backup")
            .cron("0 2 * * *")
            .missedRuns(MissedRuns.skip())
            .build();
    // Stored by the code before the default changed, when it said nothing (skip was the default).
    schedules.deploy(
        Schedule.builder("backup").task("db.backup").cron("0 2 * * *").build().toBuilder()
            .missedRuns(MissedRuns.skip())
            .build());
    ScheduleEntry paused = schedules.pause("backup");

    ScheduleEntry after = schedules.deploy(skip);

    assertThat(after.schedule().missedRuns()).isEqualTo(MissedRuns.skip());
    assertThat(after.schedule().enabled()).as("the pause survives").isFalse();
    assertThat(after.version()).as("nothing re-stored").isEqualTo(paused.version());
  }

  @Test
  void putAddsOrReplaces() {
    schedules.put(nightly());
    ScheduleEntry replaced = schedules.put(nightly().toBuilder().task("reports.other").build());

    assertThat(replaced.schedule().task()).isEqualTo("reports.other");
    assertThat(schedules.list()).hasSize(1);
  }

  @Test
  void badDefinitionsAreRefusedWithTheirValue() {
    assertThatThrownBy(() -> Schedule.builder("has space")).hasMessageContaining("'has space'");
    assertThatThrownBy(() -> Schedule.builder("x").task("t").cron("61 * * * *").build())
        .hasMessageContaining("61 * * * *");
    assertThatThrownBy(() -> Schedule.builder("x").task("t").every(Duration.ofMillis(10)))
        .hasMessageContaining("at least 1 second");
    assertThatThrownBy(
            () ->
                Schedule.builder("x")
                    .task("t")
                    .every(Duration.ofMinutes(1))
                    .start(Instant.parse("2026-02-01T00:00:00Z"))
                    .end(Instant.parse("2026-01-01T00:00:00Z"))
                    .build())
        .hasMessageContaining("ends");
    assertThatThrownBy(() -> Schedule.builder("x").task("t").priority(12))
        .hasMessageContaining("12");
    assertThatThrownBy(
            () ->
                Schedule.builder("x")
                    .task(TaskDef.of("jobs.run", Object.class), Thread.currentThread()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jobs.run: the argument (a java.lang.Thread")
        .hasMessageContaining("not plain data");
    assertThatThrownBy(() -> Schedule.builder("x").task(TaskDef.of("jobs.run", String.class), null))
        .hasMessageContaining("the argument is null");
    assertThatThrownBy(() -> MissedRuns.parse("sometimes")).hasMessageContaining("'sometimes'");
    assertThat(MissedRuns.parse("catch-up:7")).isEqualTo(MissedRuns.catchUp(7));
    assertThatThrownBy(() -> Schedule.builder("x").every(Duration.ofMinutes(1)).build())
        .hasMessageContaining("no task");
  }

  @Test
  void aStoredScheduleKeepsThePolicyItWasStoredWithAndOneWithoutGetsTheDefault() {
    String body =
        "{\"v\":1,\"task\":\"t\",\"args\":[],\"kwargs\":{},\"trigger\":\"@daily\","
            + "\"zone\":\"UTC\",%s\"state\":{\"createdAt\":\"2026-01-01T00:00:00Z\","
            + "\"cursor\":\"2026-01-01T00:00:00Z\"}}";
    backend.schedules().put("old", body.formatted("\"missedRuns\":\"skip\","), 0);
    backend.schedules().put("by-hand", body.formatted(""), 0);

    assertThat(schedules.get("old").orElseThrow().schedule().missedRuns())
        .isEqualTo(MissedRuns.skip());
    assertThat(schedules.get("by-hand").orElseThrow().schedule().missedRuns())
        .isEqualTo(Schedule.DEFAULT_MISSED_RUNS)
        .isEqualTo(MissedRuns.runOnce());
  }

  @Test
  void aScheduleAddedWithoutAPolicyIsStoredWithTheDefaultNamed() {
    schedules.add(Schedule.builder("plain").task("t").cron("@daily").build());

    assertThat(backend.schedules().get("plain").orElseThrow().body())
        .contains("\"missedRuns\":\"run-once\"");
  }

  @Test
  void theStoredFormIsStable() {
    schedules.add(nightly());

    String body = backend.schedules().get("nightly").orElseThrow().body();

    assertThat(body)
        .isEqualTo(
            "{\"v\":1,\"task\":\"reports.nightly\",\"args\":[],\"kwargs\":{\"kind\":\"daily\"},"
                + "\"trigger\":\"0 2 * * *\",\"zone\":\"Europe/Berlin\",\"queue\":\"reports\","
                + "\"priority\":7,\"expires\":\"PT1H\",\"enabled\":true,\"maxRuns\":100,"
                + "\"missedRuns\":\"run-once\",\"state\":{\"createdAt\":\"2026-01-01T00:00:00Z\","
                + "\"cursor\":\"2026-01-01T00:00:00Z\",\"nextFire\":\"2026-01-01T01:00:00Z\","
                + "\"totalRuns\":0,\"missedTicks\":0}}");
  }
}
