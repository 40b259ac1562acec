package dev.errand.spi;

import java.util.Objects;

/**
 * A schedule as a {@link ScheduleStore} keeps it: a unique name, an opaque JSON body (the
 * scheduler's definition and state, which the store never reads) and a version that the store
 * raises on every write, for compare-and-set.
 *
 * @param name the schedule's unique name, not blank
 * @param body the schedule as JSON text, written and read by {@code errand-scheduler}
 * @param version {@code >= 1}; each write of this name gives a higher version than the last
 */
public record StoredSchedule(String name, String body, long version) {

  public StoredSchedule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1 but was " + version);
    }
  }
}
