package dev.errand.spi;

import dev.errand.WorkerInfo;
import java.time.Duration;
import java.util.List;

/** Live workers: each heartbeat is kept for its time to live. Thread-safe. */
public interface WorkerRegistry {

  /** Records a heartbeat, kept for {@code ttl}. */
  void heartbeat(WorkerInfo info, Duration ttl);

  /** Workers whose last heartbeat has not expired. */
  List<WorkerInfo> live();

  /** Forgets a worker at once (clean shutdown). */
  void remove(String workerName);
}
