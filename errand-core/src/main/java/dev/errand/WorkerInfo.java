package dev.errand;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a worker reports with each heartbeat.
 *
 * @param name unique worker name, by default {@code errand@host:pid:n}
 * @param host host name
 * @param pid process id
 * @param queues the queues it consumes, in priority order
 * @param concurrency how many tasks it runs at once
 * @param pool {@code threads} or {@code virtual}
 * @param startedAt when it started
 * @param heartbeatAt when this report was made
 * @param running tasks running now
 * @param processed tasks finished since start (any outcome)
 * @param failed tasks that ended in FAILURE since start
 * @param consuming false when the worker is alive but its fetch loop is stuck or failing
 */
public record WorkerInfo(
    String name,
    String host,
    long pid,
    List<String> queues,
    int concurrency,
    String pool,
    Instant startedAt,
    Instant heartbeatAt,
    List<RunningTask> running,
    long processed,
    long failed,
    boolean consuming) {

  public WorkerInfo {
    Objects.requireNonNull(name, "name");
    queues = List.copyOf(queues);
    running = List.copyOf(running);
  }

  /**
   * A task running on a worker.
   *
   * @param id task id
   * @param name task name
   * @param startedAt when it started
   */
  public record RunningTask(String id, String name, Instant startedAt) {}
}
