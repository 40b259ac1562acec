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
 * @param consuming false when the worker is alive but not consuming: its claims fail, its fetch
 *     loop or timer is stuck, or its outcome writes have failed for longer than its stall timeout
 * @param problem what keeps it from consuming, for people (null when {@code consuming})
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
    boolean consuming,
    String problem) {

  public WorkerInfo {
    Objects.requireNonNull(name, "name");
    queues = List.copyOf(queues);
    running = List.copyOf(running);
  }

  /** A report without a problem description (as written by workers before it existed). */
  public WorkerInfo(
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
    this(
        name,
        host,
        pid,
        queues,
        concurrency,
        pool,
        startedAt,
        heartbeatAt,
        running,
        processed,
        failed,
        consuming,
        null);
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
