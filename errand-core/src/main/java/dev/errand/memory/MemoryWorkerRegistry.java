package dev.errand.memory;

import dev.errand.WorkerInfo;
import dev.errand.spi.WorkerRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/** The in-memory {@link WorkerRegistry}: heartbeats expire by the clock. Thread-safe. */
final class MemoryWorkerRegistry implements WorkerRegistry {

  private final Clock clock;
  private final ExpiringMap<String, WorkerInfo> workers = new ExpiringMap<>();

  MemoryWorkerRegistry(Clock clock) {
    this.clock = clock;
  }

  @Override
  public synchronized void heartbeat(WorkerInfo info, Duration ttl) {
    Objects.requireNonNull(info, "info");
    Durations.requirePositive(ttl, "ttl");
    Instant now = clock.instant();
    workers.put(info.name(), info, Durations.plus(now, ttl), now);
  }

  /** Live workers, sorted by name. */
  @Override
  public synchronized List<WorkerInfo> live() {
    List<WorkerInfo> live = workers.values(clock.instant());
    live.sort(Comparator.comparing(WorkerInfo::name));
    return live;
  }

  @Override
  public synchronized void remove(String workerName) {
    Objects.requireNonNull(workerName, "workerName");
    workers.remove(workerName, clock.instant());
  }
}
