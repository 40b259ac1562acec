package dev.errand.scheduler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.scheduler.internal.ScheduleCodec;
import java.util.Objects;

/**
 * A stored schedule: its definition, what the scheduler has done with it, and its version.
 *
 * @param schedule the definition
 * @param state fire times and counts
 * @param version the store's version, raised by every write
 * @param definedInCode whether the definition came from code at start-up ({@link
 *     Beat.Builder#schedule}) rather than from the API or CLI
 */
public record ScheduleEntry(
    Schedule schedule, ScheduleState state, long version, boolean definedInCode) {

  public ScheduleEntry {
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(state, "state");
  }

  /** The schedule's name. */
  public String name() {
    return schedule.name();
  }

  /**
   * The entry as JSON, for scripts and the dashboard: {@code name}, the definition's fields ({@code
   * task}, {@code args}, {@code kwargs}, {@code trigger}, {@code zone}, {@code queue}, {@code
   * priority}, {@code expires}, {@code enabled}, {@code start}, {@code end}, {@code maxRuns},
   * {@code missedRuns}), {@code state}, {@code version} and {@code definedInCode}.
   */
  public ObjectNode toJson() {
    ObjectNode o = ScheduleCodec.tree(schedule, state, null);
    o.remove("v");
    ObjectNode out = o.objectNode().put("name", name());
    out.setAll(o);
    out.put("version", version).put("definedInCode", definedInCode);
    return out;
  }

  /** Whether no tick will fire again: end time passed, run limit reached or one-off done. */
  public boolean finished() {
    return schedule.enabled() && state.nextFire() == null;
  }
}
