package dev.errand.postgres.internal;

import dev.errand.spi.Delivery;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.LimitStats;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The flow-control keys in PostgreSQL: one {@code limit_keys} row per queue and key, with the limit
 * as last stated, the rate's "theoretical arrival time" ({@code tat}, GCRA), the messages leased
 * ({@code running}) and held back ({@code held}), and {@code due_at}: when the key may next release
 * one, null while it holds nothing or its concurrency is full. A held message is a {@code messages}
 * row with {@code held}, which the plain claim never reads; a claim takes from the due keys first.
 * Every method runs inside the caller's transaction and locks the key's row ({@code FOR UPDATE})
 * before reading it, so that concurrent transactions of several processes count every start and
 * end; a claim skips a key another claim holds ({@code SKIP LOCKED}). Stateless.
 */
final class PgLimits {

  private static final String DUE_KEYS =
      """
      SELECT key, permits, period_ms, burst, concurrency, tat, running, held FROM {s}.limit_keys
      WHERE queue = ? AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?
      FOR UPDATE SKIP LOCKED""";

  private static final String TAKE =
      """
      UPDATE {s}.messages SET held = false, receipt = ? || id, lease_until = ?,
        deliveries = deliveries + 1
      WHERE id IN (
        SELECT id FROM {s}.messages
        WHERE queue = ? AND limit_key = ? AND held AND available_at <= ?
        ORDER BY priority DESC, available_at, seq LIMIT ? FOR UPDATE SKIP LOCKED)
      RETURNING id, priority, available_at, seq, body, deliveries, receipt""";

  /** One key's row. */
  private static final class Key {
    String key;
    int permits;
    long periodMs;
    int burst;
    int concurrency;
    double tat;
    long running;
    long held;

    double interval() {
      return (double) periodMs / permits;
    }

    double allowedAt() {
      return permits == 0 ? Double.NEGATIVE_INFINITY : tat - interval() * (burst - 1);
    }

    long room() {
      return concurrency == 0 ? Long.MAX_VALUE : Math.max(0, concurrency - running);
    }

    /** How many the rate lets start at {@code now}, at most {@code max}. */
    int startsAllowed(double now, int max) {
      if (permits == 0) {
        return max;
      }
      double t = tat;
      double tolerance = interval() * (burst - 1);
      int n = 0;
      while (n < max && Math.max(t, now) - tolerance <= now) {
        t = nextTat(t, now);
        n++;
      }
      return n;
    }

    void consume(double now, int n) {
      for (int i = 0; i < n && permits > 0; i++) {
        tat = nextTat(tat, now);
      }
    }

    /** As the in-memory broker's LimitKey.nextTat: a start late by a moment keeps the schedule. */
    double nextTat(double t, double now) {
      return (t >= now - LATENESS_CREDIT_MS ? t : now) + interval();
    }
  }

  /** The most a late start may take from the next one's wait, in ms (see {@code limits.lua}). */
  static final double LATENESS_CREDIT_MS = 50;

  private PgLimits() {}

  /** A message under {@code limit} was stored held (enqueued, or due again): the key learns it. */
  static void held(Pg.Tx d, String queue, FlowLimit limit, long now) throws SQLException {
    PreparedStatement ps =
        d.prepare(
            """
            INSERT INTO {s}.limit_keys AS k (queue, key, permits, period_ms, burst, concurrency, held)
            VALUES (?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT (queue, key) DO UPDATE SET permits = excluded.permits,
              period_ms = excluded.period_ms, burst = excluded.burst,
              concurrency = excluded.concurrency, held = k.held + 1""");
    ps.setString(1, queue);
    ps.setString(2, limit.key());
    ps.setInt(3, limit.permits());
    ps.setLong(4, limit.periodMillis());
    ps.setInt(5, limit.burst());
    ps.setInt(6, limit.concurrency());
    ps.executeUpdate();
    refile(d, queue, load(d, queue, limit.key()), now);
  }

  /**
   * A leased message of {@code key} no longer holds a place in its concurrency: acked ({@code
   * heldAgain} false), or held again (a retry, or a hand-back, which also gives its start back to
   * the rate when {@code refund}).
   */
  static void freed(Pg.Tx d, String queue, String key, long now, boolean heldAgain, boolean refund)
      throws SQLException {
    Key k = load(d, queue, key);
    if (k == null) {
      return;
    }
    k.running = Math.max(0, k.running - 1);
    if (heldAgain) {
      k.held++;
    }
    if (refund && k.permits > 0) {
      k.tat = Math.max(now, k.tat - k.interval());
    }
    refile(d, queue, k, now);
  }

  /** Messages of {@code key} were deleted by a purge: {@code running} leased, {@code held} held. */
  static void purged(Pg.Tx d, String queue, String key, long running, long held, long now)
      throws SQLException {
    Key k = load(d, queue, key);
    if (k == null) {
      return;
    }
    k.running = Math.max(0, k.running - running);
    k.held = Math.max(0, k.held - held);
    refile(d, queue, k, now);
  }

  /**
   * Leases up to {@code max} held messages of {@code queue} whose keys allow a start at {@code
   * now}, soonest key first, each in its key's order, into {@code out} (sorted by the caller).
   */
  static void take(
      Pg.Tx d,
      String queue,
      int max,
      long now,
      String receiptPrefix,
      long until,
      List<Delivery> out)
      throws SQLException {
    PreparedStatement due = d.prepare(DUE_KEYS);
    due.setString(1, queue);
    due.setLong(2, now);
    due.setInt(3, max);
    List<Key> keys = new ArrayList<>();
    try (ResultSet rs = due.executeQuery()) {
      while (rs.next()) {
        keys.add(key(rs));
      }
    }
    int taken = 0;
    for (Key k : keys) {
      int want = (int) Math.min(k.room(), k.startsAllowed(now, max - taken));
      int got = 0;
      if (want > 0) {
        PreparedStatement ps = d.prepare(TAKE);
        ps.setString(1, receiptPrefix);
        ps.setLong(2, until);
        ps.setString(3, queue);
        ps.setString(4, k.key);
        ps.setLong(5, now);
        ps.setInt(6, want);
        List<Object[]> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new Object[] {
                  new Delivery(
                      rs.getString(1),
                      queue,
                      rs.getInt(2),
                      rs.getBytes(5),
                      rs.getInt(6),
                      rs.getString(7),
                      Instant.ofEpochMilli(until)),
                  rs.getLong(3),
                  rs.getLong(4)
                });
          }
        }
        // RETURNING does not promise an order: restore the key's.
        rows.sort(
            Comparator.<Object[]>comparingInt(r -> -((Delivery) r[0]).priority())
                .thenComparingLong(r -> (Long) r[1])
                .thenComparingLong(r -> (Long) r[2]));
        List<Delivery> mine = new ArrayList<>(rows.size());
        for (Object[] r : rows) {
          mine.add((Delivery) r[0]);
        }
        got = mine.size();
        out.addAll(mine);
      }
      k.consume(now, got);
      k.running += got;
      k.held = Math.max(0, k.held - got);
      refile(d, queue, k, now);
      taken += got;
      if (taken >= max) {
        break;
      }
    }
  }

  /**
   * The keys of {@code queue} in use, busiest first; idle keys whose rate recovered are dropped.
   */
  static List<LimitStats> stats(Pg.Tx d, String queue, int max, long now) throws SQLException {
    PreparedStatement ps =
        d.prepare(
            """
            SELECT key, permits, period_ms, burst, concurrency, tat, running, held FROM {s}.limit_keys
            WHERE queue = ? AND (running > 0 OR held > 0 OR tat > ?)
            ORDER BY running + held DESC, key LIMIT ?""");
    ps.setString(1, queue);
    ps.setLong(2, now);
    ps.setInt(3, max);
    List<LimitStats> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Key k = key(rs);
        FlowLimit limit = new FlowLimit(k.key, k.permits, k.periodMs, k.burst, k.concurrency);
        out.add(
            new LimitStats(
                limit,
                k.running,
                k.held,
                k.permits == 0 ? null : Instant.ofEpochMilli((long) Math.ceil(k.allowedAt()))));
      }
    }
    out.sort(
        Comparator.comparingLong((LimitStats s) -> -(s.running() + s.waiting()))
            .thenComparing(s -> s.limit().key()));
    return out;
  }

  private static Key load(Pg.Tx d, String queue, String key) throws SQLException {
    PreparedStatement ps =
        d.prepare(
            """
            SELECT key, permits, period_ms, burst, concurrency, tat, running, held FROM {s}.limit_keys
            WHERE queue = ? AND key = ? FOR UPDATE""");
    ps.setString(1, queue);
    ps.setString(2, key);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? key(rs) : null;
    }
  }

  private static Key key(ResultSet rs) throws SQLException {
    Key k = new Key();
    k.key = rs.getString(1);
    k.permits = rs.getInt(2);
    k.periodMs = rs.getLong(3);
    k.burst = rs.getInt(4);
    k.concurrency = rs.getInt(5);
    k.tat = rs.getDouble(6);
    k.running = rs.getLong(7);
    k.held = rs.getLong(8);
    return k;
  }

  /**
   * Writes {@code k} back with its {@code due_at}: when its rate next allows a start, or its first
   * held message comes due if later; null while it holds nothing or its concurrency is full. An
   * idle key whose rate has recovered is deleted.
   */
  private static void refile(Pg.Tx d, String queue, Key k, long now) throws SQLException {
    if (k.held == 0 && k.running == 0 && k.tat <= now) {
      PreparedStatement del = d.prepare("DELETE FROM {s}.limit_keys WHERE queue = ? AND key = ?");
      del.setString(1, queue);
      del.setString(2, k.key);
      del.executeUpdate();
      return;
    }
    Double due = null;
    if (k.held > 0 && k.room() > 0) {
      PreparedStatement first =
          d.prepare(
              "SELECT MIN(available_at) FROM {s}.messages"
                  + " WHERE queue = ? AND limit_key = ? AND held");
      first.setString(1, queue);
      first.setString(2, k.key);
      try (ResultSet rs = first.executeQuery()) {
        if (rs.next()) {
          long firstAt = rs.getLong(1);
          if (!rs.wasNull()) {
            due = Math.max(k.allowedAt(), firstAt);
          }
        }
      }
    }
    PreparedStatement ps =
        d.prepare(
            "UPDATE {s}.limit_keys SET tat = ?, running = ?, held = ?, due_at = ?"
                + " WHERE queue = ? AND key = ?");
    ps.setDouble(1, k.tat);
    ps.setLong(2, k.running);
    ps.setLong(3, k.held);
    if (due == null) {
      ps.setNull(4, java.sql.Types.DOUBLE);
    } else {
      ps.setDouble(4, due);
    }
    ps.setString(5, queue);
    ps.setString(6, k.key);
    ps.executeUpdate();
  }
}
