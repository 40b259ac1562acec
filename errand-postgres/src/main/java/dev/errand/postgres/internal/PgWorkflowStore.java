package dev.errand.postgres.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.errand.ChordPolicy;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkflowStore;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Groups and chords in PostgreSQL ({@code workflow_groups}, {@code workflow_steps}, {@code chords},
 * {@code chord_parts}). A chord row keeps the count of its finished and failed members, so that
 * {@link #record recording a part} — on the worker's hot path, inside its settlement's transaction
 * — reads and writes one chord row and one part row, whatever the chord's size.
 *
 * <p>Concurrency across processes: {@link #record} locks the chord's row ({@code FOR UPDATE})
 * before it reads the counts, and reads the part only once it holds the lock, so two members
 * finishing at once in two transactions are counted one after the other: no count is lost and the
 * callback fires once. A part recorded while its chord is not stored is written under a
 * transaction-scoped advisory lock on the chord's id, which {@link #putChord} takes too before it
 * counts the parts already recorded: a part is either counted by the chord's creation or sees the
 * chord, never neither.
 *
 * <p>Parts recorded while their chord is not stored (not yet, or expired) are kept with the
 * settlement's time to live and counted when the chord is stored; the parts of a stored chord
 * expire with it. The janitor ({@link PgJanitor}) deletes expired rows of all four tables.
 */
public final class PgWorkflowStore implements WorkflowStore {

  private static final TypeReference<List<String>> ID_LIST = new TypeReference<>() {};

  /** {@code now + ?} in epoch ms by the database's clock, saturating at the largest bigint. */
  private static final String EXPIRES = "LEAST({now}::numeric + ?, 9223372036854775807)::bigint";

  // The advisory lock (two-key form, so apart from the migrations' one-key lock) that orders a
  // part recorded without its chord against the chord's creation.
  private static final String CHORD_LOCK =
      "SELECT pg_advisory_xact_lock(hashtext('errand chord ' || ?), hashtext(?))";

  // The statements of record(), each a lookup by key.
  private static final String CHORD_ROW =
      "SELECT size, policy, finished, failed, firing, expires_at FROM {s}.chords"
          + " WHERE id = ? AND expires_at > ? FOR UPDATE";
  // With the chord locked: writes the part (its outcome if it changed) and returns whether it was
  // recorded before, and as failed; the CTE's snapshot is taken after the lock was granted.
  private static final String PUT_COUNTED_PART =
      """
      WITH before AS (SELECT failed FROM {s}.chord_parts WHERE chord_id = ? AND idx = ?),
      w AS (
        INSERT INTO {s}.chord_parts (chord_id, idx, failed, expires_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (chord_id, idx) DO UPDATE
        SET failed = excluded.failed, expires_at = excluded.expires_at
        WHERE chord_parts.failed <> excluded.failed)
      SELECT (SELECT failed FROM before)""";
  // A part of a chord not stored (under the chord's advisory lock): kept, its latest outcome wins.
  private static final String PUT_PART =
      """
      INSERT INTO {s}.chord_parts (chord_id, idx, failed, expires_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (chord_id, idx) DO UPDATE
      SET failed = excluded.failed, expires_at = excluded.expires_at""";
  private static final String COUNTS =
      "UPDATE {s}.chords SET finished = ?, failed = ?, firing = ? WHERE id = ?";
  private static final String COUNTS_AND_CALLBACK =
      """
      UPDATE {s}.chords SET finished = ?, failed = ?, firing = ? WHERE id = ?
      RETURNING callback_id, callback_queue, callback_priority, callback_body,
        callback_not_before, callback_key, callback_key_window""";

  // putChord, after the advisory lock and with any row of the chord locked: drops the parts of an
  // expired chord and those outside it, makes the others expire with the chord, and stores the
  // chord with their count, replacing an expired row.
  private static final String PUT_CHORD =
      """
      WITH p AS (SELECT ?::text AS id, ?::bigint AS now, ?::integer AS size, ?::bigint AS expires),
      dropped AS (
        DELETE FROM {s}.chord_parts d USING p
        WHERE d.chord_id = p.id AND (d.expires_at <= p.now OR d.idx >= p.size)),
      adopted AS (
        UPDATE {s}.chord_parts a SET expires_at = p.expires FROM p
        WHERE a.chord_id = p.id AND a.expires_at > p.now AND a.idx < p.size RETURNING a.failed)
      INSERT INTO {s}.chords (id, size, policy, callback_id, callback_queue, callback_priority,
        callback_body, callback_not_before, callback_key, callback_key_window, finished, failed,
        firing, expires_at)
      SELECT p.id, p.size, ?, ?, ?, ?, ?, ?::bigint, ?, ?::bigint,
        (SELECT count(*) FROM adopted), (SELECT count(*) FILTER (WHERE failed) FROM adopted),
        'NOT_YET', p.expires
      FROM p
      ON CONFLICT (id) DO UPDATE SET size = excluded.size, policy = excluded.policy,
        callback_id = excluded.callback_id, callback_queue = excluded.callback_queue,
        callback_priority = excluded.callback_priority, callback_body = excluded.callback_body,
        callback_not_before = excluded.callback_not_before, callback_key = excluded.callback_key,
        callback_key_window = excluded.callback_key_window, finished = excluded.finished,
        failed = excluded.failed, firing = excluded.firing, expires_at = excluded.expires_at""";

  private final Pg pg;

  public PgWorkflowStore(Pg pg) {
    this.pg = Objects.requireNonNull(pg, "pg");
  }

  @Override
  public void putGroup(String groupId, List<String> memberIds, Duration ttl) {
    Objects.requireNonNull(groupId, "groupId");
    List<String> members = List.copyOf(memberIds);
    long ttlMillis = millis(requirePositive(ttl));
    byte[] json = encode(members);
    pg.read(
        "put group",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "INSERT INTO {s}.workflow_groups (id, members, expires_at) VALUES (?, ?, "
                      + EXPIRES
                      + ") ON CONFLICT (id) DO UPDATE"
                      + " SET members = excluded.members, expires_at = excluded.expires_at");
          ps.setString(1, groupId);
          ps.setBytes(2, json);
          ps.setLong(3, ttlMillis);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<List<String>> group(String groupId) {
    Objects.requireNonNull(groupId, "groupId");
    byte[] json =
        pg.read(
            "get group",
            t -> {
              PreparedStatement ps =
                  t.prepare(
                      "SELECT members FROM {s}.workflow_groups WHERE id = ? AND expires_at > {now}");
              ps.setString(1, groupId);
              try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
              }
            });
    return json == null ? Optional.empty() : Optional.of(decode(json));
  }

  @Override
  public void putSteps(String id, byte[] steps, Duration ttl) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(steps, "steps");
    long ttlMillis = millis(requirePositive(ttl));
    pg.read(
        "put workflow steps",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "INSERT INTO {s}.workflow_steps (id, body, expires_at) VALUES (?, ?, "
                      + EXPIRES
                      + ") ON CONFLICT (id) DO UPDATE"
                      + " SET body = excluded.body, expires_at = excluded.expires_at");
          ps.setString(1, id);
          ps.setBytes(2, steps);
          ps.setLong(3, ttlMillis);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<byte[]> steps(String id) {
    Objects.requireNonNull(id, "id");
    return Optional.ofNullable(
        pg.read(
            "get workflow steps",
            t -> {
              PreparedStatement ps =
                  t.prepare(
                      "SELECT body FROM {s}.workflow_steps WHERE id = ? AND expires_at > {now}");
              ps.setString(1, id);
              try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
              }
            }));
  }

  /**
   * Stores the chord unless a live one has its id. Parts recorded before it (and not expired) are
   * counted now, those outside it ({@code index >= size}) dropped; they then expire with the chord.
   * The callback is not enqueued here, even if every member has finished: the next part does it.
   */
  @Override
  public void putChord(Chord chord, Duration ttl) {
    Objects.requireNonNull(chord, "chord");
    requirePositive(ttl);
    NewMessage cb = chord.callback();
    pg.tx(
        "put chord",
        t -> {
          long now = t.now();
          long expires = expiresAt(now, ttl);
          lockChordId(t, chord.id());
          PreparedStatement live =
              t.prepare("SELECT expires_at FROM {s}.chords WHERE id = ? FOR UPDATE");
          live.setString(1, chord.id());
          try (ResultSet rs = live.executeQuery()) {
            if (rs.next() && rs.getLong(1) > now) {
              return null;
            }
          }
          PreparedStatement ps = t.prepare(PUT_CHORD);
          ps.setString(1, chord.id());
          ps.setLong(2, now);
          ps.setInt(3, chord.size());
          ps.setLong(4, expires);
          ps.setString(5, chord.policy().name());
          ps.setString(6, cb.id());
          ps.setString(7, cb.queue());
          ps.setInt(8, cb.priority());
          ps.setBytes(9, cb.body());
          setLongOrNull(ps, 10, cb.notBefore() == null ? null : cb.notBefore().toEpochMilli());
          ps.setString(11, cb.idempotencyKey());
          setLongOrNull(
              ps, 12, cb.idempotencyWindow() == null ? null : cb.idempotencyWindow().toMillis());
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<ChordState> chord(String chordId) {
    Objects.requireNonNull(chordId, "chordId");
    return pg.read(
        "get chord",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "SELECT size, policy, finished, failed, firing FROM {s}.chords"
                      + " WHERE id = ? AND expires_at > {now}");
          ps.setString(1, chordId);
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              return Optional.empty();
            }
            return Optional.of(
                new ChordState(
                    chordId,
                    rs.getInt(1),
                    ChordPolicy.valueOf(rs.getString(2)),
                    rs.getInt(3),
                    rs.getInt(4),
                    Firing.valueOf(rs.getString(5))));
          }
        });
  }

  /**
   * Locks the live chords among {@code chordIds} in the order of their ids, inside the caller's
   * transaction: a settlement of a batch with parts of several chords calls this before it records
   * them, so that two batches naming the same chords in different orders wait for each other
   * instead of deadlocking. Optional: {@link #record} locks its chord itself.
   *
   * @param now the backend's time, in epoch milliseconds
   */
  public void lockChords(Pg.Tx t, Collection<String> chordIds, long now) throws SQLException {
    TreeSet<String> ids = new TreeSet<>(chordIds);
    if (ids.size() < 2) {
      return; // one chord: record() locks it
    }
    PreparedStatement ps =
        t.prepare(
            "SELECT id FROM {s}.chords WHERE id = ANY(?) AND expires_at > ?"
                + " ORDER BY id COLLATE \"C\" FOR UPDATE");
    ps.setArray(1, t.connection().createArrayOf("text", ids.toArray()));
    ps.setLong(2, now);
    ps.executeQuery().close();
  }

  /**
   * Records a part inside the caller's (a settlement's) transaction, following the rule of {@link
   * WorkflowStore}: a handful of keyed statements, whatever the chord's size. Locks the chord's row
   * until the transaction ends.
   *
   * @param now the backend's time, in epoch milliseconds
   * @param ttl how long a part of a chord not stored yet is kept
   * @return the chord's callback when this part fires it, else null; the caller enqueues it (unless
   *     a message with its id is still stored)
   */
  public NewMessage record(Pg.Tx t, Settlement.ChordPart part, long now, Duration ttl)
      throws SQLException {
    ChordRow chord = lockChord(t, part.chordId(), now);
    if (chord == null) {
      // No live chord: keep the part for the chord once stored, unless putChord stored it while
      // this transaction waited for the lock.
      lockChordId(t, part.chordId());
      chord = lockChord(t, part.chordId(), now);
      if (chord == null) {
        PreparedStatement ps = t.prepare(PUT_PART);
        ps.setString(1, part.chordId());
        ps.setInt(2, part.index());
        ps.setBoolean(3, part.failed());
        ps.setLong(4, expiresAt(now, ttl));
        ps.executeUpdate();
        return null;
      }
    }
    if (part.index() >= chord.size) {
      return null; // not a member of this chord: counting it could fire the chord early
    }
    Boolean before = putCountedPart(t, part, chord.expires);
    int nowFinished = chord.finished + (before == null ? 1 : 0);
    int nowFailed = chord.failed + (part.failed() ? 1 : 0) - (Boolean.TRUE.equals(before) ? 1 : 0);
    Firing firing = chord.firing;
    boolean fire =
        nowFinished >= chord.size
            && (firing == Firing.NOT_YET
                || (chord.policy == ChordPolicy.FAIL
                    && firing == Firing.WITH_FAILURES
                    && nowFailed == 0));
    Firing nowFiring =
        fire ? (nowFailed == 0 ? Firing.ALL_SUCCEEDED : Firing.WITH_FAILURES) : firing;
    if (nowFinished == chord.finished && nowFailed == chord.failed && nowFiring == firing) {
      return null;
    }
    PreparedStatement update = t.prepare(fire ? COUNTS_AND_CALLBACK : COUNTS);
    update.setInt(1, nowFinished);
    update.setInt(2, nowFailed);
    update.setString(3, nowFiring.name());
    update.setString(4, part.chordId());
    if (!fire) {
      update.executeUpdate();
      return null;
    }
    try (ResultSet rs = update.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("chord " + part.chordId() + " vanished inside its transaction");
      }
      long notBefore = rs.getLong(5);
      Instant at = rs.wasNull() ? null : Instant.ofEpochMilli(notBefore);
      String key = rs.getString(6);
      long window = rs.getLong(7);
      Duration keyWindow = rs.wasNull() ? null : Duration.ofMillis(window);
      return new NewMessage(
          rs.getString(1), rs.getString(2), rs.getInt(3), rs.getBytes(4), at, key, keyWindow);
    }
  }

  /** A live chord's row, locked. */
  private record ChordRow(
      int size, ChordPolicy policy, int finished, int failed, Firing firing, long expires) {}

  private static ChordRow lockChord(Pg.Tx t, String chordId, long now) throws SQLException {
    PreparedStatement ps = t.prepare(CHORD_ROW);
    ps.setString(1, chordId);
    ps.setLong(2, now);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next()
          ? new ChordRow(
              rs.getInt(1),
              ChordPolicy.valueOf(rs.getString(2)),
              rs.getInt(3),
              rs.getInt(4),
              Firing.valueOf(rs.getString(5)),
              rs.getLong(6))
          : null;
    }
  }

  /** Takes the chord id's advisory lock until the transaction ends. */
  private static void lockChordId(Pg.Tx t, String chordId) throws SQLException {
    PreparedStatement ps = t.prepare(CHORD_LOCK);
    ps.setString(1, t.pg().schema());
    ps.setString(2, chordId);
    ps.executeQuery().close();
  }

  /** Writes a part of a locked chord; returns whether it was recorded as failed, null if not. */
  private static Boolean putCountedPart(Pg.Tx t, Settlement.ChordPart part, long expires)
      throws SQLException {
    PreparedStatement ps = t.prepare(PUT_COUNTED_PART);
    ps.setString(1, part.chordId());
    ps.setInt(2, part.index());
    ps.setString(3, part.chordId());
    ps.setInt(4, part.index());
    ps.setBoolean(5, part.failed());
    ps.setLong(6, expires);
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      boolean failed = rs.getBoolean(1);
      return rs.wasNull() ? null : failed;
    }
  }

  private static void setLongOrNull(PreparedStatement ps, int index, Long value)
      throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }

  /**
   * {@code now + ttl} in epoch milliseconds, saturating: a time to live of centuries is forever.
   */
  public static long expiresAt(long now, Duration ttl) {
    try {
      return Math.addExact(now, ttl.toMillis());
    } catch (ArithmeticException overflow) {
      return Long.MAX_VALUE;
    }
  }

  private static long millis(Duration ttl) {
    try {
      return ttl.toMillis();
    } catch (ArithmeticException overflow) {
      return Long.MAX_VALUE;
    }
  }

  private static Duration requirePositive(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    return ttl;
  }

  private static byte[] encode(List<String> ids) {
    try {
      return Wire.mapper().writeValueAsBytes(ids);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> decode(byte[] json) {
    try {
      return List.copyOf(Wire.mapper().readValue(json, ID_LIST));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
