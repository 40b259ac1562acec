package dev.errand.scheduler.internal;

import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides, from a schedule, its state and the time, which ticks to fire now and what the state
 * becomes. A pure function of its inputs, so that every scheduler process (and every test, on any
 * clock) reaches the same answer for the same schedule.
 */
public final class Planner {

  /**
   * The most ticks looked at in one plan. A schedule left unattended longer than this many ticks
   * (e.g. an every-second schedule for a day) is worked through over several passes.
   */
  static final int MAX_TICKS_SCANNED = 100_000;

  private Planner() {}

  /**
   * What to do now.
   *
   * @param fires the ticks to enqueue, oldest first
   * @param state the state once they are enqueued (the caller sets the task id)
   * @param late how many due ticks were found later than the grace (fired or not)
   */
  public record Plan(List<Instant> fires, ScheduleState state, long late) {
    Plan(List<Instant> fires, ScheduleState state) {
      this(fires, state, 0);
    }
  }

  /**
   * Plans schedule {@code s} at {@code now}: ticks due since the state's cursor are fired if on
   * time (at most {@code grace} late) and otherwise as its missed-run policy says, within its end
   * time and run limit.
   */
  public static Plan plan(Schedule s, ScheduleState st, Instant now, Duration grace) {
    if (!s.enabled()) {
      return new Plan(List.of(), st.withNextFire(null));
    }
    Instant from = from(s, st);
    long remaining = s.maxRuns() == null ? Long.MAX_VALUE : s.maxRuns() - st.totalRuns();
    // Keep only the ticks any policy could fire: the last MAX_CATCH_UP_BOUND missed and the
    // on-time ones; count the rest.
    ArrayDeque<Instant> due = new ArrayDeque<>();
    long dueCount = 0;
    Instant last = null;
    Instant t = remaining > 0 ? next(s, st, from) : null;
    while (t != null && !t.isAfter(now) && dueCount < MAX_TICKS_SCANNED) {
      due.addLast(t);
      if (due.size() > MissedRuns.MAX_CATCH_UP_BOUND + 1) {
        due.removeFirst();
      }
      dueCount++;
      last = t;
      t = next(s, st, t);
    }
    if (t != null && !t.isAfter(now) && dueCount == MAX_TICKS_SCANNED) {
      // Far behind: skip this stretch whole and look again at once; only the latest stretch can
      // hold the ticks a policy would fire.
      ScheduleState skipped =
          new ScheduleState(
              st.createdAt(),
              last,
              st.lastTick(),
              st.lastFiredAt(),
              st.lastTaskId(),
              t,
              st.totalRuns(),
              st.missedTicks() + dueCount);
      return new Plan(List.of(), skipped, dueCount);
    }
    if (dueCount == 0) {
      return new Plan(List.of(), st.withNextFire(nextFire(s, st, from, st.totalRuns())));
    }
    Instant lateLimit = now.minus(grace);
    List<Instant> missed = new ArrayList<>();
    List<Instant> onTime = new ArrayList<>();
    for (Instant d : due) {
      (d.isBefore(lateLimit) ? missed : onTime).add(d);
    }
    List<Instant> fires = new ArrayList<>(missedToFire(s.missedRuns(), missed));
    fires.addAll(onTime);
    if (fires.size() > remaining) {
      fires = new ArrayList<>(fires.subList(0, (int) remaining));
    }
    long runs = st.totalRuns() + fires.size();
    Instant cursor = last;
    Instant lastTick = fires.isEmpty() ? st.lastTick() : fires.get(fires.size() - 1);
    Instant firedAt = fires.isEmpty() ? st.lastFiredAt() : now;
    ScheduleState after =
        new ScheduleState(
            st.createdAt(),
            cursor,
            lastTick,
            firedAt,
            st.lastTaskId(),
            null,
            runs,
            st.missedTicks() + (dueCount - fires.size()));
    long late = dueCount - onTime.size();
    return new Plan(List.copyOf(fires), after.withNextFire(nextFire(s, after, cursor, runs)), late);
  }

  /** The next tick of {@code s} in state {@code st}, or null when paused or finished. */
  public static Instant nextFire(Schedule s, ScheduleState st) {
    return s.enabled() ? nextFire(s, st, from(s, st), st.totalRuns()) : null;
  }

  private static Instant nextFire(Schedule s, ScheduleState st, Instant after, long runs) {
    if (s.maxRuns() != null && runs >= s.maxRuns()) {
      return null;
    }
    return next(s, st, after);
  }

  private static List<Instant> missedToFire(MissedRuns policy, List<Instant> missed) {
    if (missed.isEmpty()) {
      return List.of();
    }
    return switch (policy.policy()) {
      case SKIP -> List.of();
      case RUN_ONCE -> List.of(missed.get(missed.size() - 1));
      case CATCH_UP -> missed.subList(Math.max(0, missed.size() - policy.bound()), missed.size());
    };
  }

  /** Ticks after this instant are pending: the cursor, or just before the start if later. */
  private static Instant from(Schedule s, ScheduleState st) {
    Instant from = st.cursor();
    if (s.start() != null) {
      Instant beforeStart = s.start().minusNanos(1);
      if (beforeStart.isAfter(from)) {
        from = beforeStart;
      }
    }
    return from;
  }

  /** The next tick after {@code after} within the end time, or null. */
  private static Instant next(Schedule s, ScheduleState st, Instant after) {
    Instant anchor = s.start() != null ? s.start() : st.createdAt();
    Instant n = s.trigger().next(after, s.zone(), anchor).orElse(null);
    return n == null || (s.end() != null && n.isAfter(s.end())) ? null : n;
  }
}
