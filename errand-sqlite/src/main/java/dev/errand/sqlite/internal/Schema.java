package dev.errand.sqlite.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Creates the tables of schema version {@value Db#SCHEMA_VERSION}; refuses a newer file. Every
 * statement is idempotent, so an older file is upgraded in place by running them all.
 */
final class Schema {

  private Schema() {}

  private static final String[] DDL = {
    // Messages: rowid is the FIFO sequence; a message is ready when available_at has come and it
    // has no live lease (receipt null, or lease_until passed).
    """
    CREATE TABLE IF NOT EXISTS messages (
      id TEXT PRIMARY KEY,
      queue TEXT NOT NULL,
      priority INTEGER NOT NULL,
      available_at INTEGER NOT NULL,
      body BLOB NOT NULL,
      deliveries INTEGER NOT NULL DEFAULT 0,
      receipt TEXT,
      lease_until INTEGER)""",
    "CREATE INDEX IF NOT EXISTS messages_order ON messages (queue, priority DESC, available_at)",
    """
    CREATE TABLE IF NOT EXISTS idempotency_keys (
      key TEXT PRIMARY KEY, id TEXT NOT NULL, expires_at INTEGER NOT NULL)""",
    """
    CREATE TABLE IF NOT EXISTS results (
      id TEXT PRIMARY KEY, ready INTEGER NOT NULL, body BLOB NOT NULL,
      expires_at INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS results_expiry ON results (expires_at)",
    "CREATE TABLE IF NOT EXISTS revoked (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS once_keys (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS dead_letters (
      id TEXT PRIMARY KEY, queue TEXT NOT NULL, failed_at INTEGER NOT NULL,
      body BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS dead_letters_order ON dead_letters (failed_at DESC)",
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS workers (
      name TEXT PRIMARY KEY, body BLOB NOT NULL, expires_at INTEGER NOT NULL)""",
    // Version 2: the scheduler's schedules and leader leases.
    """
    CREATE TABLE IF NOT EXISTS schedules (
      name TEXT PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL)""",
    // One row: the last version given out, raised by every schedule write and delete, so it is
    // both the source of new versions (never reused after a delete) and the change counter.
    """
    CREATE TABLE IF NOT EXISTS schedule_seq (
      id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)""",
    "INSERT OR IGNORE INTO schedule_seq (id, seq) VALUES (1, 0)",
    """
    CREATE TABLE IF NOT EXISTS leases (
      grp TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)"""
  };

  static void create(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      int version;
      try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
        version = rs.next() ? rs.getInt(1) : 0;
      }
      if (version > Db.SCHEMA_VERSION) {
        throw new SQLException(
            "the file has schema version "
                + version
                + " but this Errand reads up to "
                + Db.SCHEMA_VERSION
                + "; upgrade Errand");
      }
      c.setAutoCommit(false);
      try {
        for (String ddl : DDL) {
          s.execute(ddl);
        }
        s.execute("PRAGMA user_version = " + Db.SCHEMA_VERSION);
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }
}
