package com.example.readme;

// readme:begin schedules
import dev.errand.scheduler.Beat;
import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
// readme:end

/** The README's "Schedules". */
final class Scheduling {
  private Scheduling() {}

  record Report(String period) {}

  static final dev.errand.TaskDef<Report, Void> REPORT =
      dev.errand.TaskDef.of("reports.nightly", Report.class);

  static Beat start(dev.errand.Client client) {
    // readme:begin schedules
    Beat beat = Beat.builder(client)
        .schedule(Schedule.builder("nightly-report").task(REPORT, new Report("daily"))
            .cron("30 2 * * *").zone(ZoneId.of("Europe/Berlin")).build())       // 02:30 Berlin
        .schedule(Schedule.builder("crm-sync").task("crm.sync")
            .every(Duration.ofMinutes(15)).missedRuns(MissedRuns.skip()).build())   // default run-once
        .build().start();                       // run it in two or more processes: one leads
    beat.schedules().put(Schedule.builder("remind-bob").task("reminders.send")   // add or replace
        .args(Wire.mapper().createArrayNode().add("bob"))                         // ["bob"]
        .at(Instant.parse("2026-12-24T17:00:00Z")).build());
    // readme:end
    return beat;
  }
}
