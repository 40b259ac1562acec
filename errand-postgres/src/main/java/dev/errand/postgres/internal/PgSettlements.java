package dev.errand.postgres.internal;

import dev.errand.BackendException;
import dev.errand.TaskStatus;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.Step;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Applies settlements on PostgreSQL: a batch in one transaction. The acks of the batch (the common
 * ending) are one statement for all of them; the other endings, dead letters, follow-ups and chord
 * parts are written settlement by settlement; the statuses last, together. A settlement whose
 * receipt is stale writes nothing. After the commit, this process's result waiters and waiting
 * claims are woken; other processes' by the notifications the transaction sent.
 */
public final class PgSettlements {

  private static final String ACK_ALL =
      """
      DELETE FROM {s}.messages m USING unnest(?::text[], ?::text[]) AS d (id, receipt)
      WHERE m.id = d.id AND m.receipt = d.receipt
      RETURNING m.id, m.limit_key""";

  private final Pg pg;
  private final PgBroker broker;
  private final PgResultStore results;
  private final PgWorkflowStore workflows;

  public PgSettlements(Pg pg, PgBroker broker, PgResultStore results, PgWorkflowStore workflows) {
    this.pg = pg;
    this.broker = broker;
    this.results = results;
    this.workflows = workflows;
  }

  private record Applied(Set<String> stale, List<TaskStatus> statuses, boolean brokerChanged) {}

  /**
   * Applies {@code batch}.
   *
   * @param failAfter a test fault (see {@link dev.errand.spi.SettleFaults}), or null
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
    Applied applied = pg.tx("settle outcomes", t -> apply(t, batch, ttl, failAfter));
    results.completeReady(applied.statuses());
    if (applied.brokerChanged()) {
      broker.changed();
    }
    if (failAfter == Step.COMMITTED) {
      throw new BackendException("injected failure after " + failAfter + " (reply lost)", null);
    }
    return applied.stale();
  }

  private Applied apply(Pg.Tx t, List<Settlement> batch, Duration ttl, Step failAfter)
      throws SQLException {
    Set<String> chordIds = new java.util.TreeSet<>();
    for (Settlement s : batch) {
      if (s.chordPart() != null) {
        chordIds.add(s.chordPart().chordId());
      }
    }
    // Chords first, in id order, so two batches with parts of the same chords never deadlock.
    workflows.lockChords(t, chordIds, t.now());
    Set<String> batched = batchedAcks(batch);
    Set<String> acked = ackAll(t, batch, batched);
    Set<String> stale = new LinkedHashSet<>();
    List<TaskStatus> statuses = new ArrayList<>();
    boolean brokerChanged = false;
    boolean firstApplied = false;
    long now = t.now();
    for (int i = 0; i < batch.size(); i++) {
      Settlement s = batch.get(i);
      Step fault = i == 0 ? failAfter : null;
      if (s.delivery() != null) {
        boolean current =
            s.ending() instanceof Settlement.Ending.Ack && batched.contains(s.delivery().id())
                ? acked.contains(s.delivery().receipt())
                : end(t, s.delivery(), s.ending());
        if (!current) {
          stale.add(s.delivery().id());
          continue; // nothing of it was written
        }
        brokerChanged |=
            !(s.ending() instanceof Settlement.Ending.Ack
                || s.ending() instanceof Settlement.Ending.Keep);
      }
      failIf(fault, Step.RECEIPT_CHECKED, Step.ENDING);
      if (s.deadLetter() != null) {
        PgStores.DeadLetters.write(t, s.deadLetter());
      }
      failIf(fault, Step.DEAD_LETTER);
      if (!s.followUps().isEmpty()) {
        brokerChanged |= broker.enqueueNew(t, s.followUps()) > 0;
      }
      failIf(fault, Step.FOLLOW_UPS);
      if (s.chordPart() != null) {
        NewMessage callback = workflows.record(t, s.chordPart(), now, ttl);
        if (callback != null) {
          brokerChanged |= broker.enqueueNew(t, List.of(callback)) > 0;
        }
      }
      failIf(fault, Step.CHORD_PART);
      statuses.addAll(s.statuses());
      firstApplied |= i == 0;
    }
    if (!statuses.isEmpty()) {
      results.write(t, statuses, PgWorkflowStore.expiresAt(now, ttl));
    }
    if (firstApplied) {
      failIf(failAfter, Step.STATUSES);
    }
    return new Applied(stale, statuses, brokerChanged);
  }

  /**
   * Deletes the messages of every Ack ending of the batch in one statement, frees their limit keys,
   * and returns the receipts that were current.
   */
  private static Set<String> ackAll(Pg.Tx t, List<Settlement> batch, Set<String> batched)
      throws SQLException {
    List<String> ids = new ArrayList<>();
    List<String> receipts = new ArrayList<>();
    Map<String, Delivery> byId = new HashMap<>();
    for (Settlement s : batch) {
      if (s.delivery() != null
          && s.ending() instanceof Settlement.Ending.Ack
          && batched.contains(s.delivery().id())) {
        ids.add(s.delivery().id());
        receipts.add(s.delivery().receipt());
        byId.put(s.delivery().id(), s.delivery());
      }
    }
    if (ids.isEmpty()) {
      return Set.of();
    }
    PreparedStatement ps = t.prepare(ACK_ALL);
    ps.setArray(1, t.connection().createArrayOf("text", ids.toArray(new String[0])));
    ps.setArray(2, t.connection().createArrayOf("text", receipts.toArray(new String[0])));
    Set<String> current = new HashSet<>();
    List<Delivery> limited = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Delivery d = byId.get(rs.getString(1));
        current.add(d.receipt());
        String key = rs.getString(2);
        if (key != null) {
          limited.add(d);
          keys.add(key);
        }
      }
    }
    for (int i = 0; i < limited.size(); i++) {
      PgLimits.freed(t, limited.get(i).queue(), keys.get(i), t.now(), false, false);
    }
    return current;
  }

  /**
   * The ids of the messages whose Ack may be applied ahead of the batch's order: those the batch
   * names in no other settlement (a Keep before an Ack of the same delivery must see it still
   * leased).
   */
  private static Set<String> batchedAcks(List<Settlement> batch) {
    Map<String, Integer> mentions = new HashMap<>();
    for (Settlement s : batch) {
      if (s.delivery() != null) {
        mentions.merge(s.delivery().id(), 1, Integer::sum);
      }
    }
    Set<String> out = new HashSet<>();
    for (Settlement s : batch) {
      if (s.delivery() != null
          && s.ending() instanceof Settlement.Ending.Ack
          && mentions.get(s.delivery().id()) == 1) {
        out.add(s.delivery().id());
      }
    }
    return out;
  }

  private boolean end(Pg.Tx t, Delivery delivery, Settlement.Ending ending) throws SQLException {
    if (ending instanceof Settlement.Ending.Retry r) {
      return broker.retry(t, delivery, r.body(), r.notBefore());
    }
    if (ending instanceof Settlement.Ending.Release) {
      return broker.release(t, delivery);
    }
    if (ending instanceof Settlement.Ending.Keep) {
      return broker.holds(t, delivery);
    }
    return broker.ack(t, delivery);
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
