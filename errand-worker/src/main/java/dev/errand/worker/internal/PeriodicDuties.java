package dev.errand.worker.internal;

import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import dev.errand.worker.WorkerOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's periodic duties, run by its timer every tick: time limits, retries held for stuck
 * threads, revocations and lease renewal, all decided on the worker's clock. Nothing else runs on
 * the timer (heartbeats and events have threads of their own), so a renewal is never late because
 * of them.
 */
final class PeriodicDuties {

  private static final Logger log = LoggerFactory.getLogger(PeriodicDuties.class);

  /** How often running and prefetched tasks are checked for revocation. */
  static final Duration REVOCATION_CHECK = Duration.ofSeconds(1);

  private final Backend backend;
  private final TaskRunner runner;
  private final WorkerOptions options;
  private final Clock clock;
  private final Map<String, Execution> running;
  private final LinkedBlockingDeque<Execution> prefetched;
  private final BackendHealth health;
  private final Consumer<Execution> timedOut;
  private volatile Instant lastRenew;
  private volatile Instant lastRevocationCheck;

  /**
   * @param timedOut told of an attempt the timer settled at its hard time limit (its thread is
   *     abandoned: the engine gives its slot to a new one)
   */
  PeriodicDuties(
      Backend backend,
      TaskRunner runner,
      WorkerOptions options,
      Clock clock,
      Map<String, Execution> running,
      LinkedBlockingDeque<Execution> prefetched,
      BackendHealth health,
      Consumer<Execution> timedOut) {
    this.backend = backend;
    this.runner = runner;
    this.options = options;
    this.clock = clock;
    this.running = running;
    this.prefetched = prefetched;
    this.health = health;
    this.timedOut = timedOut;
  }

  /** Counts the intervals from {@code startedAt}. */
  void start(Instant startedAt) {
    lastRenew = startedAt;
    lastRevocationCheck = startedAt;
  }

  /** One tick; never throws, so the timer is never cancelled. */
  void tick() {
    try {
      Instant now = clock.instant();
      enforceTimeLimits(now);
      releaseHeldRetries();
      if (!now.isBefore(lastRevocationCheck.plus(REVOCATION_CHECK))) {
        lastRevocationCheck = now;
        checkRevocations();
      }
      if (!now.isBefore(lastRenew.plus(options.leaseRenewInterval()))) {
        lastRenew = now;
        renewLeases();
      }
    } catch (Throwable t) {
      // Never let an exception cancel the timer: leases would stop being renewed.
      log.error("worker timer failed; continuing", t);
    }
  }

  private void enforceTimeLimits(Instant now) {
    for (Execution e : running.values()) {
      if (e.startedAt() == null || e.isSettled()) {
        continue;
      }
      Instant hard = e.hardDeadline();
      if (hard != null && !now.isBefore(hard)) {
        if (runner.timeOut(e)) {
          timedOut.accept(e);
        }
        continue;
      }
      Instant soft = e.softDeadline();
      if (soft != null && !e.softLimitHit() && !now.isBefore(soft)) {
        log.warn("task {} [{}] passed its soft time limit; interrupting it", e.name(), e.id());
        e.softLimit();
      }
    }
  }

  /** Sends the retries held back for stuck threads that have ended since. */
  private void releaseHeldRetries() {
    for (Execution e : running.values()) {
      if (e.heldRetry != null && !e.thread().isAlive()) {
        runner.releaseHeldRetry(e);
      }
    }
  }

  private List<Execution> held() {
    // Settled attempts whose outcome is still being written keep their lease until the ack.
    List<Execution> held = new ArrayList<>(running.size() + prefetched.size());
    held.addAll(running.values());
    held.addAll(prefetched);
    return held;
  }

  private void renewLeases() {
    List<Execution> held = held();
    if (held.isEmpty()) {
      return;
    }
    List<Delivery> deliveries = new ArrayList<>(held.size());
    for (Execution e : held) {
      deliveries.add(e.delivery());
    }
    Set<String> lost = backend.broker().renew(deliveries, options.leaseDuration());
    health.answered();
    for (Execution e : held) {
      if (lost.contains(e.id())) {
        if (prefetched.remove(e)) {
          e.abandonWithoutOutcome();
          log.warn(
              "lease of prefetched task [{}] was lost; dropped it (another worker has it)", e.id());
        } else if (!e.isSettled()) {
          log.warn("lease of running task {} [{}] was lost; it may run twice", e.name(), e.id());
        }
      }
    }
  }

  private void checkRevocations() {
    List<Execution> held = held();
    if (held.isEmpty()) {
      return;
    }
    Map<String, Execution> byId = new HashMap<>();
    for (Execution e : held) {
      byId.put(e.id(), e);
    }
    for (String id : backend.results().revoked(byId.keySet())) {
      Execution e = byId.get(id);
      if (!e.revoked() && !e.isSettled()) {
        log.info("task {} [{}] was revoked; stopping it", e.name(), id);
        e.revoke();
      }
    }
  }
}
