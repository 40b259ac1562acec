package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.worker.Pool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The most a worker on this machine can be asked for, so that {@code -c 20000} is refused with the
 * reason instead of starting twenty thousand threads. The bounds come from what the slots and the
 * prefetched messages really consume:
 *
 * <ul>
 *   <li>{@code --pool threads}: every slot is an OS thread. The OS lets a process have only so many
 *       (Linux: the smallest of {@code ulimit -u}, {@code kernel.threads-max}, {@code
 *       kernel.pid_max} and {@code vm.max_map_count / 2}, a thread's stack taking two memory maps);
 *       a worker may use half, the rest is for the JVM, the backend client and other processes.
 *   <li>{@code --pool virtual}: a virtual thread's stack lives on the heap; each slot is given room
 *       for a task's stack of {@value #HEAP_PER_VIRTUAL_SLOT} bytes (an idle one takes about 6
 *       KiB).
 *   <li>{@code --prefetch}: prefetched messages wait on the heap, each up to the largest message a
 *       client sends ({@link Client#DEFAULT_MAX_MESSAGE_BYTES}).
 * </ul>
 */
final class WorkerLimits {

  /** Heap allowed per virtual-thread slot: room for one running task's stack. */
  static final long HEAP_PER_VIRTUAL_SLOT = 64 * 1024;

  /** Threads assumed when the OS limit cannot be read (no /proc): a conservative count. */
  static final long FALLBACK_OS_THREADS = 8192;

  /**
   * How many threads the OS lets this process have, and which setting says so.
   *
   * @param threads the count
   * @param source the setting, for the message, e.g. "vm.max_map_count 65530 / 2"
   */
  record OsThreads(long threads, String source) {}

  private final OsThreads os;
  private final long maxHeap;

  WorkerLimits(OsThreads os, long maxHeap) {
    this.os = os;
    this.maxHeap = maxHeap;
  }

  /** The limits of this JVM on this machine. */
  static WorkerLimits current() {
    return new WorkerLimits(osThreads(), Runtime.getRuntime().maxMemory());
  }

  /** The pool named by {@code flag}, refused (exit 2) when this JVM cannot run it. */
  static Pool pool(String flag, String label) {
    Pool p;
    try {
      p = Pool.fromLabel(label);
    } catch (IllegalArgumentException e) {
      throw new UsageException(flag + " must be threads or virtual but was '" + label + "'");
    }
    if (!p.isAvailable()) {
      throw new UsageException(
          flag
              + " virtual needs Java 21 or newer but this is Java "
              + Runtime.version().feature()
              + " ("
              + System.getProperty("java.home")
              + "); use "
              + flag
              + " threads, or run with JAVA_HOME set to a JDK 21+");
    }
    return p;
  }

  /** The most slots with {@code pool}. */
  long maxConcurrency(Pool pool) {
    return pool == Pool.VIRTUAL
        ? Math.min(Integer.MAX_VALUE / 2, maxHeap / HEAP_PER_VIRTUAL_SLOT)
        : os.threads() / 2;
  }

  /** The most prefetched messages. */
  long maxPrefetch() {
    return Math.min(Integer.MAX_VALUE / 2, maxHeap / Client.DEFAULT_MAX_MESSAGE_BYTES);
  }

  /** {@code value} of {@code flag} when it is positive and within {@link #maxConcurrency}. */
  int concurrency(String flag, int value, Pool pool) {
    Checks.positive(flag, value);
    long max = maxConcurrency(pool);
    if (value > max) {
      String why =
          pool == Pool.VIRTUAL
              ? "a virtual thread's stack lives on the heap, and "
                  + max
                  + " slots of up to "
                  + HEAP_PER_VIRTUAL_SLOT / 1024
                  + " KiB fill the "
                  + mib(maxHeap)
                  + " heap (raise it with -Xmx in ERRAND_JAVA_OPTS)"
              : "each slot is an OS thread, this machine lets a process have "
                  + os.threads()
                  + " ("
                  + os.source()
                  + "), and half is left for the JVM, the backend and other processes; for more"
                  + " tasks at once use --pool virtual (Java 21+)";
      throw new UsageException(
          flag
              + " must be at most "
              + max
              + " with --pool "
              + pool.label()
              + " but was "
              + value
              + ": "
              + why);
    }
    return value;
  }

  /** {@code value} of {@code flag} when it is zero or more and within {@link #maxPrefetch}. */
  int prefetch(String flag, int value, boolean byDefault) {
    if (value < 0) {
      throw new UsageException(flag + " must not be negative but was " + value);
    }
    long max = maxPrefetch();
    if (value > max) {
      throw new UsageException(
          flag
              + (byDefault ? " (by default the concurrency)" : "")
              + " must be at most "
              + max
              + " but was "
              + value
              + ": prefetched messages wait on the heap, each up to "
              + mib(Client.DEFAULT_MAX_MESSAGE_BYTES)
              + " (the largest message a client sends), and the heap is "
              + mib(maxHeap)
              + (byDefault ? "; give a smaller " + flag : ""));
    }
    return value;
  }

  private static String mib(long bytes) {
    return bytes / (1024 * 1024) + " MiB";
  }

  /** The smallest of the OS's limits on this process's threads, or the fallback without /proc. */
  static OsThreads osThreads() {
    List<OsThreads> limits = new ArrayList<>();
    nprocSoftLimit().ifPresent(n -> limits.add(new OsThreads(n, "ulimit -u " + n)));
    number("/proc/sys/kernel/threads-max")
        .ifPresent(n -> limits.add(new OsThreads(n, "kernel.threads-max " + n)));
    number("/proc/sys/kernel/pid_max")
        .ifPresent(n -> limits.add(new OsThreads(n, "kernel.pid_max " + n)));
    number("/proc/sys/vm/max_map_count")
        .ifPresent(
            n ->
                limits.add(
                    new OsThreads(n / 2, "vm.max_map_count " + n + ", two maps for each thread")));
    return limits.stream()
        .min(java.util.Comparator.comparingLong(OsThreads::threads))
        .orElse(
            new OsThreads(
                FALLBACK_OS_THREADS,
                "assumed: the OS limit could not be read, there is no /proc on this system"));
  }

  private static java.util.OptionalLong nprocSoftLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max processes")) {
          String soft = line.substring("Max processes".length()).strip().split("\\s+")[0];
          return soft.equals("unlimited")
              ? java.util.OptionalLong.empty()
              : java.util.OptionalLong.of(Long.parseLong(soft));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or a format we do not know: the other limits decide
    }
    return java.util.OptionalLong.empty();
  }

  private static java.util.OptionalLong number(String file) {
    try {
      // readAllLines, not readString: /proc files report a size that readString trusts.
      return java.util.OptionalLong.of(
          Long.parseLong(Files.readAllLines(Path.of(file)).get(0).strip()));
    } catch (IOException | RuntimeException e) {
      return java.util.OptionalLong.empty();
    }
  }
}
