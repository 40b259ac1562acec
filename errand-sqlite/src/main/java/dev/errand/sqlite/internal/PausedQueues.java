package dev.errand.sqlite.internal;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The paused queues ({@code Broker.pause}) in the {@code paused_queues} table, which every claim
 * reads first. Each method runs inside the caller's transaction. Stateless.
 */
final class PausedQueues {

  private PausedQueues() {}

  /** The paused queues (usually none: one read of an empty table). */
  static Set<String> all(Db d) throws SQLException {
    Set<String> out = null;
    try (ResultSet rs = d.prepare("SELECT queue FROM paused_queues").executeQuery()) {
      while (rs.next()) {
        if (out == null) {
          out = new HashSet<>();
        }
        out.add(rs.getString(1));
      }
    }
    return out == null ? Set.of() : out;
  }

  /** The paused queues, sorted. */
  static List<String> list(Db d) throws SQLException {
    List<String> names = new ArrayList<>();
    try (ResultSet rs =
        d.prepare("SELECT queue FROM paused_queues ORDER BY queue").executeQuery()) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  static boolean contains(Db d, String queue) throws SQLException {
    PreparedStatement ps = d.prepare("SELECT 1 FROM paused_queues WHERE queue = ?");
    ps.setString(1, queue);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /** Pauses {@code queue}; returns whether it was not paused yet. */
  static boolean add(Db d, String queue) throws SQLException {
    PreparedStatement ps = d.prepare("INSERT OR IGNORE INTO paused_queues (queue) VALUES (?)");
    ps.setString(1, queue);
    return ps.executeUpdate() > 0;
  }

  /** Resumes {@code queue}; returns whether it was paused. */
  static boolean remove(Db d, String queue) throws SQLException {
    PreparedStatement ps = d.prepare("DELETE FROM paused_queues WHERE queue = ?");
    ps.setString(1, queue);
    return ps.executeUpdate() > 0;
  }
}
