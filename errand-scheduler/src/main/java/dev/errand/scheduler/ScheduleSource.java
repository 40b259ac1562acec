package dev.errand.scheduler;

import java.util.List;

/**
 * Schedules defined in code, for the {@code errand} command: {@code errand beat --app
 * com.example.Tasks} (and {@code errand worker --beat}) stores the schedules of an app class that
 * implements this, as {@link Beat.Builder#schedule} would.
 *
 * <pre>{@code
 * public final class Tasks implements ErrandApp, ScheduleSource {
 *   public List<Schedule> schedules() {
 *     return List.of(Schedule.builder("nightly-report").task(REPORT, null).cron("0 2 * * *").build());
 *   }
 * }
 * }</pre>
 */
public interface ScheduleSource {

  /** The schedules to store when a scheduler starts. */
  List<Schedule> schedules();
}
