package dev.errand.sqlite.internal;

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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Groups and chords in SQLite ({@code workflow_groups}, {@code chords}, {@code chord_parts}). A
 * chord row keeps the count of its finished and failed members, so that {@link #record recording a
 * part} — on the worker's hot path, inside its settlement's transaction — reads and writes one
 * chord row and one part row, whatever the chord's size. Several processes may share the file:
 * every write runs in an IMMEDIATE transaction, so two parts of one chord are never counted at
 * once.
 *
 * <p>Parts recorded while their chord is not stored (not yet, or expired) are kept with the
 * settlement's time to live and counted when the chord is stored; the parts of a stored chord
 * expire with it. The janitor deletes expired rows of all three tables.
 */
public final class SqliteWorkflowStore implements WorkflowStore {

  private static final TypeReference<List<String>> ID_LIST = new TypeReference<>() {};

  // The statements of record(), each a lookup by key (ChordPlanTest checks SQLite's plans).
  static final String CHORD_ROW =
      "SELECT size, policy, finished, failed, firing, expires_at FROM chords"
          + " WHERE id = ? AND expires_at > ?";
  static final String PART = "SELECT failed FROM chord_parts WHERE chord_id = ? AND idx = ?";
  static final String PUT_PART =
      "INSERT OR REPLACE INTO chord_parts (chord_id, idx, failed, expires_at) VALUES (?, ?, ?, ?)";
  static final String COUNTS =
      "UPDATE chords SET finished = ?, failed = ?, firing = ? WHERE id = ?";
  static final String CALLBACK =
      """
      SELECT callback_id, callback_queue, callback_priority, callback_body,
        callback_not_before, callback_key, callback_key_window
      FROM chords WHERE id = ?""";

  private final Db db;
  private final Clock clock;

  public SqliteWorkflowStore(Db db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  @Override
  public void putGroup(String groupId, List<String> memberIds, Duration ttl) {
    Objects.requireNonNull(groupId, "groupId");
    List<String> members = List.copyOf(memberIds);
    long expires = expiresAt(clock.millis(), requirePositive(ttl));
    byte[] json = encode(members);
    db.tx(
        "put group",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  "INSERT OR REPLACE INTO workflow_groups (id, members, expires_at)"
                      + " VALUES (?, ?, ?)");
          ps.setString(1, groupId);
          ps.setBytes(2, json);
          ps.setLong(3, expires);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<List<String>> group(String groupId) {
    Objects.requireNonNull(groupId, "groupId");
    long now = clock.millis();
    byte[] json =
        db.read(
            "get group",
            d -> {
              PreparedStatement ps =
                  d.prepare("SELECT members FROM workflow_groups WHERE id = ? AND expires_at > ?");
              ps.setString(1, groupId);
              ps.setLong(2, now);
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
    long expires = expiresAt(clock.millis(), requirePositive(ttl));
    db.tx(
        "put workflow steps",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  "INSERT OR REPLACE INTO workflow_steps (id, body, expires_at) VALUES (?, ?, ?)");
          ps.setString(1, id);
          ps.setBytes(2, steps);
          ps.setLong(3, expires);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<byte[]> steps(String id) {
    Objects.requireNonNull(id, "id");
    long now = clock.millis();
    return Optional.ofNullable(
        db.read(
            "get workflow steps",
            d -> {
              PreparedStatement ps =
                  d.prepare("SELECT body FROM workflow_steps WHERE id = ? AND expires_at > ?");
              ps.setString(1, id);
              ps.setLong(2, now);
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
    long now = clock.millis();
    long expires = expiresAt(now, requirePositive(ttl));
    NewMessage cb = chord.callback();
    db.tx(
        "put chord",
        d -> {
          PreparedStatement live = d.prepare("SELECT expires_at FROM chords WHERE id = ?");
          live.setString(1, chord.id());
          try (ResultSet rs = live.executeQuery()) {
            if (rs.next() && rs.getLong(1) > now) {
              return null;
            }
          }
          // An expired chord's row and parts (they expire with it) are left for the janitor; drop
          // them now so that only parts recorded since count.
          PreparedStatement drop =
              d.prepare(
                  "DELETE FROM chord_parts WHERE chord_id = ? AND (expires_at <= ? OR idx >= ?)");
          drop.setString(1, chord.id());
          drop.setLong(2, now);
          drop.setInt(3, chord.size());
          drop.executeUpdate();
          PreparedStatement adopt =
              d.prepare("UPDATE chord_parts SET expires_at = ? WHERE chord_id = ?");
          adopt.setLong(1, expires);
          adopt.setString(2, chord.id());
          adopt.executeUpdate();
          int finished = 0;
          int failed = 0;
          PreparedStatement count =
              d.prepare(
                  "SELECT COUNT(*), COALESCE(SUM(failed), 0) FROM chord_parts WHERE chord_id = ?");
          count.setString(1, chord.id());
          try (ResultSet rs = count.executeQuery()) {
            if (rs.next()) {
              finished = rs.getInt(1);
              failed = rs.getInt(2);
            }
          }
          PreparedStatement ps =
              d.prepare(
                  """
                  INSERT OR REPLACE INTO chords (id, size, policy, callback_id, callback_queue,
                    callback_priority, callback_body, callback_not_before, callback_key,
                    callback_key_window, finished, failed, firing, expires_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""");
          ps.setString(1, chord.id());
          ps.setInt(2, chord.size());
          ps.setString(3, chord.policy().name());
          ps.setString(4, cb.id());
          ps.setString(5, cb.queue());
          ps.setInt(6, cb.priority());
          ps.setBytes(7, cb.body());
          setLongOrNull(ps, 8, cb.notBefore() == null ? null : cb.notBefore().toEpochMilli());
          ps.setString(9, cb.idempotencyKey());
          setLongOrNull(
              ps, 10, cb.idempotencyWindow() == null ? null : cb.idempotencyWindow().toMillis());
          ps.setInt(11, finished);
          ps.setInt(12, failed);
          ps.setString(13, Firing.NOT_YET.name());
          ps.setLong(14, expires);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<ChordState> chord(String chordId) {
    Objects.requireNonNull(chordId, "chordId");
    long now = clock.millis();
    return db.read(
        "get chord",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  "SELECT size, policy, finished, failed, firing FROM chords"
                      + " WHERE id = ? AND expires_at > ?");
          ps.setString(1, chordId);
          ps.setLong(2, now);
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
   * Records a part inside the caller's (a settlement's) transaction, following the rule of {@link
   * WorkflowStore}: a handful of keyed statements, whatever the chord's size.
   *
   * @param now the backend's time, in epoch milliseconds
   * @param ttl how long a part of a chord not stored yet is kept
   * @return the chord's callback when this part fires it, else null; the caller enqueues it (unless
   *     a message with its id is still stored)
   */
  public NewMessage record(Db d, Settlement.ChordPart part, long now, Duration ttl)
      throws SQLException {
    PreparedStatement chordRow = d.prepare(CHORD_ROW);
    chordRow.setString(1, part.chordId());
    chordRow.setLong(2, now);
    int size = 0;
    ChordPolicy policy = null;
    int finished = 0;
    int failed = 0;
    Firing firing = null;
    long expires = 0;
    try (ResultSet rs = chordRow.executeQuery()) {
      if (rs.next()) {
        size = rs.getInt(1);
        policy = ChordPolicy.valueOf(rs.getString(2));
        finished = rs.getInt(3);
        failed = rs.getInt(4);
        firing = Firing.valueOf(rs.getString(5));
        expires = rs.getLong(6);
      }
    }
    if (policy == null) {
      // No live chord: keep the part for the chord once stored.
      putPart(d, part, expiresAt(now, ttl));
      return null;
    }
    if (part.index() >= size) {
      return null; // not a member of this chord: counting it could fire the chord early
    }
    Boolean before = partFailed(d, part);
    if (before == null || before != part.failed()) {
      putPart(d, part, expires);
    }
    int nowFinished = finished + (before == null ? 1 : 0);
    int nowFailed = failed + (part.failed() ? 1 : 0) - (Boolean.TRUE.equals(before) ? 1 : 0);
    boolean fire =
        nowFinished >= size
            && (firing == Firing.NOT_YET
                || (policy == ChordPolicy.FAIL
                    && firing == Firing.WITH_FAILURES
                    && nowFailed == 0));
    Firing nowFiring =
        fire ? (nowFailed == 0 ? Firing.ALL_SUCCEEDED : Firing.WITH_FAILURES) : firing;
    if (nowFinished != finished || nowFailed != failed || nowFiring != firing) {
      PreparedStatement update = d.prepare(COUNTS);
      update.setInt(1, nowFinished);
      update.setInt(2, nowFailed);
      update.setString(3, nowFiring.name());
      update.setString(4, part.chordId());
      update.executeUpdate();
    }
    return fire ? callback(d, part.chordId()) : null;
  }

  /** Whether the part was recorded as failed; null if it was not recorded. */
  private static Boolean partFailed(Db d, Settlement.ChordPart part) throws SQLException {
    PreparedStatement ps = d.prepare(PART);
    ps.setString(1, part.chordId());
    ps.setInt(2, part.index());
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getInt(1) != 0 : null;
    }
  }

  private static void putPart(Db d, Settlement.ChordPart part, long expires) throws SQLException {
    PreparedStatement ps = d.prepare(PUT_PART);
    ps.setString(1, part.chordId());
    ps.setInt(2, part.index());
    ps.setInt(3, part.failed() ? 1 : 0);
    ps.setLong(4, expires);
    ps.executeUpdate();
  }

  private static NewMessage callback(Db d, String chordId) throws SQLException {
    PreparedStatement ps = d.prepare(CALLBACK);
    ps.setString(1, chordId);
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("chord " + chordId + " vanished inside its transaction");
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

  private static void setLongOrNull(PreparedStatement ps, int index, Long value)
      throws SQLException {
    if (value == null) {
      ps.setNull(index, java.sql.Types.INTEGER);
    } else {
      ps.setLong(index, value);
    }
  }

  /**
   * {@code now + ttl} in epoch milliseconds, saturating: a time to live of centuries is forever.
   */
  static long expiresAt(long now, Duration ttl) {
    try {
      return Math.addExact(now, ttl.toMillis());
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
