package dev.errand.sqlite.internal;

import dev.errand.BackendException;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.Step;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Applies a batch of settlements in one IMMEDIATE transaction (one commit, one fsync at most, for
 * the whole batch: the worker's group commit), each settlement only if its delivery's receipt is
 * current.
 *
 * <p>Within the transaction a settlement's parts are written in this order: its ending first,
 * because the ending's keyed write ({@code ... WHERE id = ? AND receipt = ?}) is the receipt check
 * (one row changed, or none when the receipt is stale, and then nothing else of it is written); its
 * dead letter; its follow-ups; its chord part (and the chord's callback when the part completes the
 * chord). The statuses of every current settlement are written last, together, in the batch's
 * order, as multi-row statements. No reader sees the order: the transaction is atomic. So a plain
 * settlement (status and ack) costs what the batch's share of one multi-row insert and one keyed
 * delete cost, as before settlements; dead letters, follow-ups and chord parts add their own keyed
 * statements only when present.
 *
 * <p>Any failure rolls back the whole batch, not only the settlement that met it: each settlement
 * is then applied whole or not at all (as {@link dev.errand.spi.Backend#settle} requires), and so
 * is the batch, so the caller may try the same batch again, or its settlements one by one to find
 * one that cannot be stored.
 */
public final class Settlements {

  private final Db db;
  private final SqliteBroker broker;
  private final SqliteResultStore results;
  private final SqliteWorkflowStore workflows;
  private final Clock clock;

  public Settlements(
      Db db,
      SqliteBroker broker,
      SqliteResultStore results,
      SqliteWorkflowStore workflows,
      Clock clock) {
    this.db = db;
    this.broker = broker;
    this.results = results;
    this.workflows = workflows;
    this.clock = clock;
  }

  /** What a committed batch left to do after its commit. */
  private record Applied(Set<String> stale, List<TaskStatus> statuses, boolean brokerChanged) {}

  /**
   * Applies {@code batch}; after the commit wakes this process's waiters of the ready statuses and
   * its waiting claims when messages became ready.
   *
   * @param failAfter a test fault: throw once the batch's first settlement reached this step (see
   *     {@link dev.errand.spi.SettleFaults}), or null
   * @return the task ids of the settlements whose receipt was stale
   */
  public Set<String> settle(List<Settlement> batch, Duration ttl, Step failAfter) {
    Objects.requireNonNull(batch, "batch");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    if (batch.isEmpty()) {
      return Set.of();
    }
    long now = clock.millis();
    Applied applied = db.tx("settle outcomes", d -> apply(d, batch, now, ttl, failAfter));
    results.completeReady(applied.statuses());
    if (applied.brokerChanged()) {
      broker.changed();
    }
    if (failAfter == Step.COMMITTED) {
      throw new BackendException("injected failure after " + failAfter + " (reply lost)", null);
    }
    return applied.stale();
  }

  private Applied apply(Db d, List<Settlement> batch, long now, Duration ttl, Step failAfter)
      throws SQLException {
    Set<String> stale = new LinkedHashSet<>();
    List<TaskStatus> statuses = new ArrayList<>();
    boolean brokerChanged = false;
    boolean firstApplied = false;
    for (int i = 0; i < batch.size(); i++) {
      Settlement s = batch.get(i);
      Step fault = i == 0 ? failAfter : null;
      if (s.delivery() != null) {
        if (!end(d, s.delivery(), s.ending())) {
          stale.add(s.delivery().id());
          continue; // nothing of it was written
        }
        brokerChanged |=
            !(s.ending() instanceof Settlement.Ending.Ack
                || s.ending() instanceof Settlement.Ending.Keep);
      }
      failIf(fault, Step.RECEIPT_CHECKED, Step.ENDING);
      if (s.deadLetter() != null) {
        SqliteStores.DeadLetters.write(d, s.deadLetter());
      }
      failIf(fault, Step.DEAD_LETTER);
      if (!s.followUps().isEmpty()) {
        brokerChanged |= broker.enqueueNew(d, s.followUps(), now) > 0;
      }
      failIf(fault, Step.FOLLOW_UPS);
      if (s.chordPart() != null) {
        NewMessage callback = workflows.record(d, s.chordPart(), now, ttl);
        if (callback != null) {
          brokerChanged |= broker.enqueueNew(d, List.of(callback), now) > 0;
        }
      }
      failIf(fault, Step.CHORD_PART);
      statuses.addAll(s.statuses());
      firstApplied |= i == 0;
    }
    if (!statuses.isEmpty()) {
      results.write(d, statuses, SqliteWorkflowStore.expiresAt(now, ttl));
    }
    if (firstApplied) {
      failIf(failAfter, Step.STATUSES);
    }
    return new Applied(stale, statuses, brokerChanged);
  }

  /**
   * Ends the delivery as {@code ending} says, receipt-checked.
   *
   * @return false if the receipt was stale (nothing written)
   */
  private boolean end(Db d, Delivery delivery, Settlement.Ending ending) throws SQLException {
    if (ending instanceof Settlement.Ending.Retry r) {
      return broker.retry(d, delivery, r.body(), r.notBefore());
    }
    if (ending instanceof Settlement.Ending.Release) {
      return broker.release(d, delivery);
    }
    if (ending instanceof Settlement.Ending.Keep) {
      return broker.holds(d, delivery);
    }
    return broker.ack(d, delivery);
  }

  private static void failIf(Step fault, Step... steps) {
    if (fault == null) {
      return;
    }
    for (Step step : steps) {
      if (fault == step) {
        // Inside the transaction: it rolls back everything written so far.
        throw new BackendException("injected failure after " + step, null);
      }
    }
  }
}
