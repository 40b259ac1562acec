package dev.errand.scheduler;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * What the scheduler has done with a schedule, stored with it.
 *
 * @param createdAt when the schedule was first stored; interval ticks count from here unless the
 *     schedule has a start time
 * @param cursor ticks up to and including this instant are handled (fired, or skipped as missed,
 *     paused or out of bounds); the next tick is the first after it
 * @param lastTick the scheduled instant of the last tick fired, or null if none yet
 * @param lastFiredAt when that tick was enqueued, or null
 * @param lastTaskId the id of the task it enqueued, or null
 * @param nextFire the next tick, or null when paused or finished (end time passed, run limit
 *     reached, one-off done)
 * @param totalRuns ticks fired so far (a run-now is not counted)
 * @param missedTicks ticks skipped because they were missed (see {@link MissedRuns})
 */
public record ScheduleState(
    Instant createdAt,
    Instant cursor,
    Instant lastTick,
    Instant lastFiredAt,
    String lastTaskId,
    Instant nextFire,
    long totalRuns,
    long missedTicks) {

  /**
   * The state of a schedule stored at {@code now}: nothing fired yet. The time is cut to whole
   * seconds, so that interval ticks counted from it fall on whole seconds.
   */
  public static ScheduleState created(Instant now) {
    Instant at = now.truncatedTo(ChronoUnit.SECONDS);
    return new ScheduleState(at, at, null, null, null, null, 0, 0);
  }

  /** This state with another next fire time. */
  public ScheduleState withNextFire(Instant next) {
    return new ScheduleState(
        createdAt, cursor, lastTick, lastFiredAt, lastTaskId, next, totalRuns, missedTicks);
  }

  /** This state with ticks up to {@code instant} handled (if later than the cursor). */
  public ScheduleState withCursorAtLeast(Instant instant) {
    Instant c = instant.isAfter(cursor) ? instant : cursor;
    return new ScheduleState(
        createdAt, c, lastTick, lastFiredAt, lastTaskId, nextFire, totalRuns, missedTicks);
  }
}
