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
  private final Attempts attempts;
  private final BackendHealth health;
  private final Consumer<Attempt> timedOut;
  private volatile Instant lastRenew;
  private volatile Instant lastRevocationCheck;

  /**
   * @param timedOut told of an attempt the timer took at its hard time limit (its thread is
   *     abandoned: the slots give its place to a new one)
   */
  PeriodicDuties(
      Backend backend,
      TaskRunner runner,
      WorkerOptions options,
      Clock clock,
      Attempts attempts,
      BackendHealth health,
      Consumer<Attempt> timedOut) {
    this.backend = backend;
    this.runner = runner;
    this.options = options;
    this.clock = clock;
    this.attempts = attempts;
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
    for (Attempt a : attempts.running()) {
      if (!a.isRunning()) {
        continue;
      }
      Instant hard = a.hardDeadline();
      if (hard != null && !now.isBefore(hard)) {
        if (runner.timeOut(a)) {
          timedOut.accept(a);
        }
        continue;
      }
      Instant soft = a.softDeadline();
      if (soft != null && !a.cancelled(Attempt.Cancellation.SOFT_LIMIT) && !now.isBefore(soft)) {
        log.warn("task {} [{}] passed its soft time limit; interrupting it", a.name(), a.id());
        a.cancel(Attempt.Cancellation.SOFT_LIMIT);
      }
    }
  }

  /** Sends the retries held back for stuck threads that have ended since. */
  private void releaseHeldRetries() {
    for (Attempt a : attempts.running()) {
      if (a.state() == Attempt.State.HELD && !a.thread().isAlive()) {
        runner.releaseHeldRetry(a);
      }
    }
  }

  private void renewLeases() {
    // Attempts whose outcome is still being written keep their lease until it is stored.
    List<Attempt> held = attempts.held();
    if (held.isEmpty()) {
      return;
    }
    List<Delivery> deliveries = new ArrayList<>(held.size());
    for (Attempt a : held) {
      deliveries.add(a.delivery());
    }
    Set<String> lost = backend.broker().renew(deliveries, options.leaseDuration());
    health.answered();
    for (Attempt a : held) {
      if (lost.contains(a.id())) {
        if (attempts.unprefetch(a)) {
          a.drop();
          log.warn(
              "lease of prefetched task [{}] was lost; dropped it (another worker has it)", a.id());
        } else if (!a.isSettled()) {
          log.warn("lease of running task {} [{}] was lost; it may run twice", a.name(), a.id());
        }
      }
    }
  }

  private void checkRevocations() {
    List<Attempt> held = attempts.held();
    if (held.isEmpty()) {
      return;
    }
    Map<String, Attempt> byId = new HashMap<>();
    for (Attempt a : held) {
      byId.put(a.id(), a);
    }
    for (String id : backend.results().revoked(byId.keySet())) {
      Attempt a = byId.get(id);
      if (!a.cancelled(Attempt.Cancellation.REVOKED) && !a.isSettled()) {
        log.info("task {} [{}] was revoked; stopping it", a.name(), id);
        a.cancel(Attempt.Cancellation.REVOKED);
      }
    }
  }
}
