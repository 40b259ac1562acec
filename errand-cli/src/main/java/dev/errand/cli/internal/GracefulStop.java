package dev.errand.cli.internal;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a long-running command (worker, beat, dashboard) runs until it is told to stop, and stops: on
 * SIGTERM or SIGINT its parts are stopped in the order they were given, on the command's own
 * thread, and the command returns 0, so the process exits 0 after a clean stop. A second SIGTERM or
 * SIGINT while stopping exits at once with 128 + the signal's number, as a kill would: what was
 * running comes back to the queue when its lease expires, so nothing is lost, only the wait is cut
 * short.
 *
 * <p>Why the signals are handled here and not in a shutdown hook: on a signal the JVM runs its
 * shutdown hooks and then exits with 128 + the signal (143 for SIGTERM) whatever the hooks did, so
 * systemd reports a clean stop as a failure and a supervisor cannot tell it from a crash. Calling
 * {@code Runtime.halt(0)} at the end of a hook would fix the status, but it also cuts short the
 * other hooks still running and turns every other exit (a {@code System.exit(1)}) into 0. Handling
 * the signal makes a stop an ordinary return from the command. The JDK's only way to handle a
 * signal is {@code sun.misc.Signal} (module {@code jdk.unsupported}, in every JDK 17+); it is
 * reached by reflection so that the build stays free of its "internal proprietary API" warning.
 * Where it cannot be used (a JVM run with {@code -Xrs}), a shutdown hook still stops the parts, and
 * the JVM's status (143) is the exit code. The hook also covers every other way the JVM may end
 * (SIGHUP, an exit called elsewhere). This is the one place a process stops, to be reused by a
 * supervisor.
 */
final class GracefulStop {

  private static final Logger log = LoggerFactory.getLogger(GracefulStop.class);

  /** One part to stop. */
  private record Step(String name, Runnable action) {}

  private final List<Step> steps = new CopyOnWriteArrayList<>();
  private final CountDownLatch requested = new CountDownLatch(1);
  private final CountDownLatch done = new CountDownLatch(1);
  private final AtomicBoolean started = new AtomicBoolean();
  private final IntConsumer forceExit;
  private final boolean signals;
  private final Thread hook = new Thread(this::stopFromHook, "errand-shutdown");
  private volatile boolean clean = true;

  /** Stops on SIGTERM and SIGINT; a second one exits with {@code Runtime.halt}. */
  GracefulStop() {
    this(status -> Runtime.getRuntime().halt(status), true);
  }

  /**
   * Stops on {@link #requestStop()}, and on the signals if {@code signals} (tests leave the test
   * JVM's handlers alone); a second request calls {@code forceExit} with the exit status.
   */
  GracefulStop(IntConsumer forceExit, boolean signals) {
    this.forceExit = forceExit;
    this.signals = signals;
  }

  /**
   * Starts listening for SIGTERM and SIGINT, before the parts start, so that a signal that comes
   * while they start stops them as soon as they have started (and still exits 0). Call it once the
   * flags are checked: a command refused for bad usage leaves the JVM's handlers alone.
   */
  GracefulStop listen() {
    if (signals) {
      boolean term = handle("TERM", 15);
      boolean intr = handle("INT", 2);
      if (!term || !intr) {
        log.debug("signals not handled (TERM {}, INT {}): the shutdown hook stops", term, intr);
      }
    }
    Runtime.getRuntime().addShutdownHook(hook);
    return this;
  }

  /** Adds a part to stop, after those added before. */
  GracefulStop then(String name, Runnable action) {
    steps.add(new Step(name, action));
    return this;
  }

  /**
   * Waits for SIGTERM, SIGINT or {@link #requestStop()} (at once if one came already), then stops
   * every part in order, and returns when they are stopped.
   *
   * @return true if every part stopped without an exception
   */
  boolean awaitStop() throws InterruptedException {
    requested.await();
    runSteps();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException exiting) {
      // the JVM is already shutting down (the hook ran the steps, or waits for them): nothing to do
    }
    return clean;
  }

  /** Asks for a stop as SIGTERM does: the first call stops, later ones exit at once. */
  void requestStop() {
    signalled("a stop request", 15);
  }

  private void signalled(String what, int number) {
    if (requested.getCount() == 0) {
      log.warn(
          "{} again while stopping: exiting now; running tasks return to their queues when their"
              + " leases expire",
          what);
      forceExit.accept(128 + number);
      return;
    }
    log.info("{}: stopping (send it again to exit at once)", what);
    requested.countDown();
  }

  private void stopFromHook() {
    requested.countDown();
    runSteps();
  }

  /** Runs the steps once; a second caller waits until they are done. */
  private void runSteps() {
    if (!started.compareAndSet(false, true)) {
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      for (Step s : steps) {
        try {
          s.action().run();
        } catch (RuntimeException e) {
          // One part failing to stop must not keep the others (the backend) open.
          clean = false;
          log.error("could not stop the {} cleanly", s.name(), e);
        }
      }
    } finally {
      done.countDown();
    }
  }

  /**
   * Raises signal {@code name} (such as "TERM") in this process, as {@code kill} would; false where
   * the JVM cannot. For the training run of the class-data archive, which stops its worker so.
   */
  static boolean raise(String name) {
    try {
      Class<?> signalType = Class.forName("sun.misc.Signal");
      Object signal = signalType.getConstructor(String.class).newInstance(name);
      signalType.getMethod("raise", signalType).invoke(null, signal);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return false;
    }
  }

  /** Routes signal {@code name} to {@link #signalled}; false if this JVM does not allow it. */
  private boolean handle(String name, int number) {
    try {
      Class<?> signalType = Class.forName("sun.misc.Signal");
      Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
      Object signal = signalType.getConstructor(String.class).newInstance(name);
      Object handler =
          Proxy.newProxyInstance(
              GracefulStop.class.getClassLoader(),
              new Class<?>[] {handlerType},
              (proxy, method, args) ->
                  switch (method.getName()) {
                    case "handle" -> {
                      signalled("SIG" + name, number);
                      yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "errand stop on SIG" + name;
                  });
      signalType.getMethod("handle", signalType, handlerType).invoke(null, signal, handler);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      // No sun.misc.Signal, or the JVM keeps the signal (-Xrs): the shutdown hook stops instead.
      return false;
    }
  }
}
