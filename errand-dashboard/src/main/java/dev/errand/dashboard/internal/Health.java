package dev.errand.dashboard.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.wire.Wire;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the backend answers, known without asking it on each request: a cheap read is sent every
 * {@link #INTERVAL} on a thread of its own, and the backend counts as down when that read fails or
 * has not answered within {@link #TIMEOUT}. While it is down the API answers 503 at once instead of
 * letting every request wait for the backend's own timeout (10 s on Redis), and the pages say so.
 * Thread-safe.
 */
final class Health implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Health.class);

  /** How often the backend is probed. */
  static final Duration INTERVAL = Duration.ofSeconds(1);

  /** How long a probe may take before the backend counts as down. */
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  /**
   * What the dashboard knows of the backend.
   *
   * @param up whether it answered the last probe in time
   * @param since when this state began
   * @param error why it is down, null while up
   */
  record State(boolean up, Instant since, String error) {
    /** What a request is told while the backend is down. */
    String problem() {
      return "the backend is not answering: " + error + " (since " + since + ")";
    }

    /** {@code {up, since, error}}, as {@code /api/health} and the event stream send it. */
    ObjectNode toJson() {
      return Wire.mapper()
          .createObjectNode()
          .put("up", up)
          .put("since", since.toString())
          .put("error", error);
    }
  }

  private final Runnable probe;
  private final Clock clock;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(daemon("errand-dashboard-health"));
  // The probe may block for the backend's whole timeout, so it never runs on the timer's thread.
  private final ExecutorService caller =
      Executors.newSingleThreadExecutor(daemon("errand-dashboard-probe"));
  private final List<Consumer<State>> listeners = new CopyOnWriteArrayList<>();
  private volatile State state;
  private CompletableFuture<Void> pending; // the probe in flight, on the timer thread only
  private long pendingSince; // System.nanoTime(): a test's clock may stand still

  /**
   * @param probe a cheap backend read that throws when the backend cannot be read
   */
  Health(Runnable probe, Clock clock) {
    this.probe = probe;
    this.clock = clock;
    this.state = new State(true, clock.instant(), null);
  }

  void start() {
    timer.scheduleWithFixedDelay(this::tick, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  State state() {
    return state;
  }

  /** Calls {@code listener} on every change between up and down (on a dashboard thread). */
  void onChange(Consumer<State> listener) {
    listeners.add(listener);
  }

  private void tick() {
    try {
      if (pending == null || pending.isDone()) {
        pendingSince = System.nanoTime();
        pending =
            CompletableFuture.runAsync(probe, caller)
                .whenComplete((ok, e) -> settle(e == null ? null : message(e)));
      } else if (System.nanoTime() - pendingSince >= TIMEOUT.toNanos()) {
        // Still waiting: the backend has not answered in time. The next probe waits for this one.
        down("no answer within " + TIMEOUT.toMillis() + " ms");
      }
    } catch (RuntimeException e) {
      log.warn("probing the backend failed: {}", e.toString());
    }
  }

  private void settle(String error) {
    if (error == null) {
      up();
    } else {
      down(error);
    }
  }

  private synchronized void up() {
    if (!state.up()) {
      log.info("the backend answers again (it did not since {})", state.since());
      changed(new State(true, clock.instant(), null));
    }
  }

  private synchronized void down(String error) {
    if (state.up()) {
      log.warn("the backend is not answering: {}", error);
      changed(new State(false, clock.instant(), error));
    } else if (!error.equals(state.error())) {
      state = new State(false, state.since(), error); // same outage, the newest reason
    }
  }

  private void changed(State s) {
    state = s;
    for (Consumer<State> l : listeners) {
      try {
        l.accept(s);
      } catch (RuntimeException e) {
        log.warn("telling of the backend's state failed: {}", e.toString());
      }
    }
  }

  private static String message(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    timer.shutdownNow();
    caller.shutdownNow();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
