package dev.errand.cli.internal;

import dev.errand.cli.Main;
import dev.errand.spi.Backend;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code errand worker} in a child JVM and replaces it when it asks to be recycled: a JVM
 * cannot kill a thread stuck past its hard time limit, but a process can be ended — Celery's
 * prefork answer, in JVM form. The child asks (exit code {@link #RECYCLE}) when too many threads
 * are stuck, after {@code --max-tasks-per-child} tasks, or above {@code --max-memory-per-child}; it
 * stops gracefully first, and the retries held for its stuck threads are sent by this supervisor
 * once the child has exited, so no retry ever runs beside the attempt it replaces.
 *
 * <p>On SIGTERM or SIGINT the supervisor stops the child gracefully and exits 0 (a second signal
 * exits at once, and the child with it). A child that dies on its own (killed by a signal, crashed)
 * is restarted with backoff, unless it exited with an error at once (bad configuration), which ends
 * the supervisor with that exit code. The child watches its standard input, a pipe from the
 * supervisor: if the supervisor is killed, the child stops at once, as if killed with it.
 *
 * <p>This is the supervisor of {@code java -jar errand.jar worker}. The launcher {@code ./errand}
 * supervises in the shell instead, with the same rules and the same child side ({@link
 * SupervisedChild}), and sends held retries with {@code --send-held-retries}: a shell costs a few
 * MiB, a JVM about 45.
 */
final class WorkerSupervisor {

  private static final Logger log = LoggerFactory.getLogger(WorkerSupervisor.class);

  /** Exit code of a child that asks to be replaced (EX_TEMPFAIL). */
  static final int RECYCLE = 75;

  /** A child that exits sooner than this after its start failed to start: no restart. */
  static final Duration QUICK_EXIT = Duration.ofSeconds(10);

  /** Longest wait before restarting a child that died. */
  static final long MAX_RESTART_BACKOFF_MS = 30_000;

  /** How long a stopping child gets beyond its own shutdown timeout before it is killed. */
  static final Duration STOP_MARGIN = Duration.ofSeconds(15);

  /** The hidden option that runs {@code errand worker} as a supervised child. */
  static final String CHILD_OPTION = "--supervised-by";

  /**
   * The system property with the worker process's own JVM options, separated by spaces: the
   * launcher ({@code ./errand}) starts this supervisor with a small heap and no optimizing compiler
   * and gives the worker process its defaults in this property. The worker process gets them
   * followed by the JVM options that come after this property on the supervisor's command line (the
   * user's {@code ERRAND_JAVA_OPTS}, and the class-data archive), so the user's come last and win.
   * Without the property the worker process gets the supervisor's JVM options, all of them.
   */
  static final String WORKER_JVM_OPTIONS = "errand.worker.jvm-options";

  private final List<String> workerArgs;
  private final Supplier<Backend> backend;
  private final Duration shutdownTimeout;
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Object lock = new Object();
  private volatile boolean stopping;
  private Process child; // guarded by lock

  /**
   * @param workerArgs the {@code worker ...} arguments the supervisor was started with
   * @param backend opens the backend, to send held retries (opened only when there are some)
   * @param shutdownTimeout the worker's shutdown timeout
   */
  WorkerSupervisor(List<String> workerArgs, Supplier<Backend> backend, Duration shutdownTimeout) {
    this.workerArgs = List.copyOf(workerArgs);
    this.backend = backend;
    this.shutdownTimeout = shutdownTimeout;
  }

  /** Runs children until stopped; returns the exit code for the supervisor. */
  int run() throws IOException, InterruptedException {
    // SIGTERM or SIGINT stops the child, on a thread of its own while this one waits for it.
    GracefulStop signals = new GracefulStop().listen().then("worker process", this::stop);
    Thread waiter =
        new Thread(
            () -> {
              try {
                signals.awaitStop();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "errand-supervisor-stop");
    waiter.setDaemon(true);
    waiter.start();
    try {
      return loop();
    } finally {
      finished.countDown();
    }
  }

  private int loop() throws IOException, InterruptedException {
    long backoffMs = 1_000;
    while (true) {
      Path handoff = Files.createTempFile("errand-held-retries-", ".json");
      Process p;
      synchronized (lock) {
        if (stopping) {
          Files.deleteIfExists(handoff);
          return 0;
        }
        p = start(handoff);
        child = p;
      }
      long startedAt = System.nanoTime();
      int code = p.waitFor();
      HeldRetryFile.sendFrom(handoff, backend); // the child is gone: its stuck threads with it
      if (stopping) {
        return code == 0 || code == 143 || code == 130 ? 0 : code; // 143, 130: a JVM run with -Xrs
      }
      if (code == RECYCLE) {
        log.info("worker process {} recycled itself; starting a new one", p.pid());
        backoffMs = 1_000;
        continue;
      }
      if (code == 0) {
        return 0;
      }
      long ranMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
      boolean killed = code > 128; // by a signal (the OOM killer, kill -9): not its own doing
      if (!killed && ranMs < QUICK_EXIT.toMillis()) {
        log.error("worker process {} exited with {} at start; not restarting it", p.pid(), code);
        return code;
      }
      log.error(
          "worker process {} died (exit {}) after {} s; starting a new one in {} ms",
          p.pid(),
          code,
          ranMs / 1000,
          backoffMs);
      Thread.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_RESTART_BACKOFF_MS);
    }
  }

  private Process start(Path handoff) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(childJvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments()));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(workerArgs);
    cmd.add(CHILD_OPTION);
    cmd.add(ProcessHandle.current().pid() + ":" + handoff);
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectInput(ProcessBuilder.Redirect.PIPE) // its end tells the child we are gone
            .start();
    log.debug("started worker process {}", p.pid());
    return p;
  }

  /**
   * The JVM options of a worker process, from the supervisor's: see {@link #WORKER_JVM_OPTIONS}.
   * JDK_JAVA_OPTIONS and JAVA_TOOL_OPTIONS, which come before, reach the worker process through its
   * environment.
   */
  static List<String> childJvmOptions(List<String> supervisorOptions) {
    String marker = "-D" + WORKER_JVM_OPTIONS + "=";
    for (int i = 0; i < supervisorOptions.size(); i++) {
      String option = supervisorOptions.get(i);
      if (option.startsWith(marker)) {
        List<String> options = new ArrayList<>();
        for (String o : option.substring(marker.length()).split(" ")) {
          if (!o.isEmpty()) {
            options.add(o);
          }
        }
        options.addAll(supervisorOptions.subList(i + 1, supervisorOptions.size()));
        return options;
      }
    }
    return supervisorOptions;
  }

  /** SIGTERM or SIGINT: stop the child gracefully, wait for it and its handoff, then return. */
  private void stop() {
    stopping = true;
    Process p;
    synchronized (lock) {
      p = child;
    }
    if (p != null && p.isAlive()) {
      // SIGTERM through the handle: Process.destroy() would also close the child's stdin, which
      // the child reads as "the supervisor is gone" and stops at once instead of gracefully.
      p.toHandle().destroy();
      try {
        if (!p.waitFor(shutdownTimeout.plus(STOP_MARGIN).toMillis(), TimeUnit.MILLISECONDS)) {
          log.error("worker process {} did not stop in time; killing it", p.pid());
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      finished.await(30, TimeUnit.SECONDS); // the loop sends the held retries, then returns
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
