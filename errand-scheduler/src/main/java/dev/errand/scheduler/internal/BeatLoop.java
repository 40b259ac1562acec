package dev.errand.scheduler.internal;

import dev.errand.Client;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleEntry;
import dev.errand.scheduler.ScheduleState;
import dev.errand.scheduler.internal.Planner.Plan;
import dev.errand.scheduler.internal.ScheduleCodec.Decoded;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's one thread: stand by until the leader lease is free, then, while holding it, fire
 * each schedule's due ticks and sleep until the next one or until a schedule changes.
 *
 * <p>The lease makes one leader the rule, not a certainty (a process can be paused past its lease
 * and wake up still acting as leader), so safety comes from elsewhere: each tick is enqueued with a
 * key made of the schedule's name and the tick, so a repeat is dropped by the broker, and each
 * schedule's state is written with compare-and-set, so two leaders cannot both count a tick.
 */
public final class BeatLoop implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(BeatLoop.class);

  /** How soon a pass that hit an error is tried again. */
  static final Duration RETRY = Duration.ofSeconds(1);

  private final ScheduleStore store;
  private final Client client;
  private final Clock clock;
  private final Clock leaseClock;
  private final String group;
  private final String candidate;
  private final Duration leaseTtl;
  private final Duration renewEvery;
  private final Duration standbyPoll;
  private final Duration grace;
  private final Set<String> unreadable = new HashSet<>();
  private volatile boolean leading;
  private volatile boolean stopping;
  private Instant validUntil = Instant.MIN; // by leaseClock
  private Instant renewAt = Instant.MIN;

  /**
   * A loop that fails over within {@code failover}: the lease lasts eight tenths of it and a
   * standby tries every tenth, so a dead leader is replaced at most nine tenths after its last
   * renewal, leaving a tenth for the round trips and a loaded machine.
   *
   * @param clock the clock of ticks
   * @param leaseClock the backend's clock, which decides when the lease lapses
   */
  public BeatLoop(
      ScheduleStore store,
      Client client,
      Clock clock,
      Clock leaseClock,
      String group,
      String candidate,
      Duration failover,
      Duration grace) {
    this.store = store;
    this.client = client;
    this.clock = clock;
    this.leaseClock = leaseClock;
    this.group = group;
    this.candidate = candidate;
    this.standbyPoll = failover.dividedBy(10);
    this.leaseTtl = failover.multipliedBy(8).dividedBy(10);
    this.renewEvery = leaseTtl.dividedBy(3);
    this.grace = grace;
  }

  /** Whether this process held the lease at its last look. */
  public boolean leading() {
    return leading;
  }

  /** Asks the loop to end; interrupt its thread to cut a wait short. */
  public void stop() {
    stopping = true;
  }

  @Override
  public void run() {
    try {
      while (!stopping) {
        long seen = 0;
        Instant wake;
        try {
          seen = store.changes();
          wake = pass();
        } catch (RuntimeException e) {
          log.warn("scheduler pass failed, trying again in {}: {}", RETRY, e.toString());
          wake = clock.instant().plus(RETRY);
        }
        long nanos = Duration.between(clock.instant(), wake).toNanos();
        if (nanos <= 0 || stopping) {
          continue;
        }
        if (leading) {
          awaitChange(seen, Duration.ofNanos(nanos));
        } else {
          Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      resign();
    }
  }

  /**
   * One look: take or renew the lease; if leading, fire every due tick.
   *
   * @return when to look again
   */
  public Instant pass() {
    Instant now = clock.instant();
    if (!holdLease(now)) {
      return now.plus(standbyPoll);
    }
    Instant wake = renewAt;
    for (StoredSchedule stored : store.list()) {
      Instant next;
      try {
        next = handle(stored);
      } catch (RuntimeException e) {
        log.warn(
            "schedule '{}' could not fire, trying again in {}: {}",
            stored.name(),
            RETRY,
            e.toString());
        next = clock.instant().plus(RETRY);
      }
      if (next != null && next.isBefore(wake)) {
        wake = next;
      }
    }
    return wake;
  }

  private boolean holdLease(Instant now) {
    if (leading && now.isBefore(renewAt)) {
      return true;
    }
    // Read before asking, so the lease is thought valid no longer than the backend keeps it.
    Instant asked = leaseClock.instant();
    boolean won = store.lead(group, candidate, leaseTtl);
    if (won) {
      validUntil = asked.plus(leaseTtl);
      renewAt = now.plus(renewEvery);
      if (!leading) {
        log.info("{} leads the scheduler group '{}'", candidate, group);
      }
    } else if (leading) {
      log.warn("{} lost the lead of scheduler group '{}'; standing by", candidate, group);
    }
    leading = won;
    return won;
  }

  /** Fires what is due of one schedule; returns its next tick, or null if none. */
  private Instant handle(StoredSchedule stored) {
    Decoded d;
    try {
      d = ScheduleCodec.decode(stored);
      unreadable.remove(stored.name() + "@" + stored.version());
    } catch (IllegalArgumentException e) {
      if (unreadable.add(stored.name() + "@" + stored.version())) {
        log.error("{}; it will not fire until it is fixed or deleted", e.getMessage());
      }
      return null;
    }
    ScheduleEntry entry = d.entry();
    Schedule s = entry.schedule();
    Instant now = clock.instant();
    Plan plan = Planner.plan(s, entry.state(), now, grace);
    ScheduleState after = plan.state();
    if (plan.late() > 0) {
      long skipped = after.missedTicks() - entry.state().missedTicks();
      log.warn(
          "schedule '{}' found {} tick(s) late by more than {}; missed-run policy {}: fired {},"
              + " skipped {}",
          s.name(),
          plan.late(),
          grace,
          s.missedRuns(),
          plan.late() - skipped,
          skipped);
    }
    if (!plan.fires().isEmpty()) {
      if (!leaseClock.instant().isBefore(validUntil)) {
        renewAt = Instant.MIN; // the lease may have lapsed: renew before firing anything
        return now;
      }
      String id = null;
      for (Instant tick : plan.fires()) {
        id = Firing.fireTick(client, s, tick);
        log.info("schedule '{}' sent {} [{}] for {}", s.name(), s.task(), id, tick);
      }
      after =
          new ScheduleState(
              after.createdAt(),
              after.cursor(),
              after.lastTick(),
              clock.instant().truncatedTo(ChronoUnit.MILLIS),
              id,
              after.nextFire(),
              after.totalRuns(),
              after.missedTicks());
    } else if (after.equals(entry.state())) {
      return after.nextFire();
    }
    String body = ScheduleCodec.encode(s, after, d.codeHash());
    if (store.put(stored.name(), body, stored.version()).isEmpty()) {
      // Edited meanwhile (or another leader wrote): the next pass re-plans from the new version;
      // ticks fired here are dropped by their keys if fired again.
      return now;
    }
    return after.nextFire();
  }

  private void awaitChange(long seen, Duration timeout) throws InterruptedException {
    try {
      store.awaitChange(seen, timeout);
    } catch (RuntimeException e) {
      log.debug("waiting for schedule changes failed: {}", e.toString());
      Thread.sleep(Math.min(timeout.toMillis(), RETRY.toMillis()));
    }
  }

  private void resign() {
    if (!leading) {
      return;
    }
    leading = false;
    try {
      store.resign(group, candidate);
      log.info("{} resigned the lead of scheduler group '{}'", candidate, group);
    } catch (RuntimeException e) {
      log.warn(
          "{} could not resign the lead; a standby takes over when it lapses: {}",
          candidate,
          e.toString());
    }
  }
}
