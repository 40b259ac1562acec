package dev.errand.cli.internal;

import dev.errand.worker.Worker;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker side of {@link WorkerSupervisor}: asks to be recycled when a limit is passed, stops at
 * once when the supervisor is gone, and hands the supervisor the retries held for stuck threads.
 */
final class SupervisedChild {

  private static final Logger log = LoggerFactory.getLogger(SupervisedChild.class);

  /** How often the limits are checked. */
  static final long CHECK_EVERY_MS = 1_000;

  /**
   * When this process asks to be replaced.
   *
   * @param maxTasks tasks after which it is recycled, or null for no limit
   * @param maxMemoryBytes resident memory above which it is recycled, or null for no limit
   * @param maxStuckThreads threads stuck past their hard time limit it tolerates (0: none)
   */
  record Limits(Integer maxTasks, Long maxMemoryBytes, int maxStuckThreads) {}

  private final long supervisorPid;
  private final Path handoff;
  private final Limits limits;
  private final AtomicBoolean recycling = new AtomicBoolean();
  private final ScheduledExecutorService checks =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "errand-recycle-check");
            t.setDaemon(true);
            return t;
          });
  private int stuckSeen;
  private volatile Runnable stop = () -> {};

  private SupervisedChild(long supervisorPid, Path handoff, Limits limits) {
    this.supervisorPid = supervisorPid;
    this.handoff = handoff;
    this.limits = limits;
  }

  /** Parses the hidden {@code --supervised-by PID:FILE} value. */
  static SupervisedChild of(String value, Limits limits) {
    int colon = value.indexOf(':');
    if (colon < 1) {
      throw new UsageException(WorkerSupervisor.CHILD_OPTION + " must be PID:FILE");
    }
    return new SupervisedChild(
        Long.parseLong(value.substring(0, colon)), Path.of(value.substring(colon + 1)), limits);
  }

  /**
   * Watches the supervisor and the limits of a started worker; when a limit is passed, calls {@code
   * stop} (a graceful stop, after which the command exits with {@link WorkerSupervisor#RECYCLE}).
   */
  void watch(Worker worker, Runnable stop) {
    this.stop = stop;
    // Checked every second; but the task limit is exact: the worker takes no more than that.
    Thread stdin = new Thread(this::awaitSupervisorGone, "errand-supervisor-watch");
    stdin.setDaemon(true);
    stdin.start();
    checks.scheduleWithFixedDelay(
        () -> check(worker), CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
  }

  /** Our standard input is a pipe from the supervisor: its end means the supervisor is gone. */
  private void awaitSupervisorGone() {
    InputStream in = System.in;
    try {
      while (in.read() != -1) {
        // nothing is ever written; only the end matters
      }
    } catch (IOException e) {
      // same as the end
    }
    log.error("supervisor {} is gone; stopping at once", supervisorPid);
    // As if killed with it: held messages come back when their leases run out.
    Runtime.getRuntime().halt(137);
  }

  private void check(Worker worker) {
    try {
      String reason = reason(worker);
      if (reason != null && recycling.compareAndSet(false, true)) {
        log.warn("recycling this worker process: {}", reason);
        checks.shutdown();
        stop.run();
      }
    } catch (RuntimeException e) {
      log.warn("could not check the recycle limits", e);
    }
  }

  private String reason(Worker worker) {
    int stuck = worker.stuckThreads();
    // Seen twice in a row: a thread interrupted at its hard limit usually ends within moments.
    stuckSeen = stuck > limits.maxStuckThreads() ? stuckSeen + 1 : 0;
    if (stuckSeen >= 2) {
      return stuck
          + " threads stuck past their hard time limit (--max-stuck-threads "
          + limits.maxStuckThreads()
          + ")";
    }
    if (worker.taskLimitReached()) {
      return "it took its " + limits.maxTasks() + " tasks (--max-tasks-per-child)";
    }
    if (limits.maxMemoryBytes() != null) {
      long rss = residentBytes();
      if (rss > limits.maxMemoryBytes()) {
        return "resident memory "
            + (rss >> 20)
            + " MiB over --max-memory-per-child "
            + (limits.maxMemoryBytes() >> 20)
            + " MiB";
      }
    }
    return null;
  }

  /** Resident memory of this process: VmRSS on Linux, else the JVM's used heap and non-heap. */
  static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    var memory = ManagementFactory.getMemoryMXBean();
    return memory.getHeapMemoryUsage().getUsed() + memory.getNonHeapMemoryUsage().getUsed();
  }

  /** Whether this process stopped to be recycled. */
  boolean recycling() {
    return recycling.get();
  }

  /** After the worker stopped: hands the retries held for stuck threads to the supervisor. */
  void handOff(Worker worker) {
    try {
      HeldRetryFile.write(handoff, worker.heldRetries());
    } catch (IOException | RuntimeException e) {
      log.error("could not hand the held retries to the supervisor; they come back later", e);
    }
  }
}
