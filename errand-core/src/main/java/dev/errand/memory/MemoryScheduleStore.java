package dev.errand.memory;

import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** The in-memory {@link ScheduleStore}: leases expire by the clock. Thread-safe. */
final class MemoryScheduleStore implements ScheduleStore {

  private final Clock clock;
  private final TreeMap<String, StoredSchedule> schedules = new TreeMap<>();
  private final Map<String, Lease> leases = new HashMap<>();
  // Versions keep rising across a delete and re-create, so a stale compare-and-set never matches.
  private long lastVersion;
  private long changes;

  MemoryScheduleStore(Clock clock) {
    this.clock = clock;
  }

  @Override
  public synchronized List<StoredSchedule> list() {
    return new ArrayList<>(schedules.values());
  }

  @Override
  public synchronized Optional<StoredSchedule> get(String name) {
    return Optional.ofNullable(schedules.get(Objects.requireNonNull(name, "name")));
  }

  @Override
  public synchronized OptionalLong put(String name, String body, long expectedVersion) {
    requireName(name);
    Objects.requireNonNull(body, "body");
    StoredSchedule now = schedules.get(name);
    long current = now == null ? 0 : now.version();
    if (current != expectedVersion) {
      return OptionalLong.empty();
    }
    long version = ++lastVersion;
    schedules.put(name, new StoredSchedule(name, body, version));
    changed();
    return OptionalLong.of(version);
  }

  @Override
  public synchronized boolean delete(String name, long expectedVersion) {
    StoredSchedule now = schedules.get(Objects.requireNonNull(name, "name"));
    if (now == null || (expectedVersion != 0 && now.version() != expectedVersion)) {
      return false;
    }
    schedules.remove(name);
    changed();
    return true;
  }

  @Override
  public synchronized long changes() {
    return changes;
  }

  @Override
  public synchronized long awaitChange(long seen, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (changes == seen) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return changes;
  }

  @Override
  public synchronized boolean lead(String group, String candidate, Duration ttl) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(candidate, "candidate");
    Durations.requirePositive(ttl, "ttl");
    Instant now = clock.instant();
    Lease held = leases.get(group);
    if (held != null && held.expiresAt().isAfter(now) && !held.holder().equals(candidate)) {
      return false;
    }
    leases.put(group, new Lease(candidate, Durations.plus(now, ttl)));
    return true;
  }

  @Override
  public synchronized void resign(String group, String candidate) {
    Lease held = leases.get(group);
    if (held != null && held.holder().equals(candidate)) {
      leases.remove(group);
    }
  }

  @Override
  public synchronized Optional<Lease> leader(String group) {
    Lease held = leases.get(group);
    return held != null && held.expiresAt().isAfter(clock.instant())
        ? Optional.of(held)
        : Optional.empty();
  }

  private void changed() {
    changes++;
    notifyAll();
  }

  private static void requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("schedule name must not be blank");
    }
  }
}
