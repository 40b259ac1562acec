package dev.errand.sqlite.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

/**
 * Creates the tables of schema version {@value Db#SCHEMA_VERSION}; refuses a newer file. Every
 * statement is idempotent, so an older file is upgraded in place by running them all, after which
 * the columns that version 3 added to {@code results} are added if missing and filled from the
 * statuses' JSON. The versions: 1, messages, results, dead letters, events, heartbeats; 2, the
 * scheduler's tables; 3, the search columns of {@code results}; 4, the workflow tables ({@code
 * workflow_groups}, {@code workflow_steps}, {@code chords}, {@code chord_parts}), new tables only;
 * 5, flow control ({@code paused_queues}, {@code limit_keys}, and the {@code held}, {@code
 * limit_key} and {@code unique_key} columns of {@code messages} with their indexes).
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
    """
    CREATE TABLE IF NOT EXISTS idempotency_keys (
      key TEXT PRIMARY KEY, id TEXT NOT NULL, expires_at INTEGER NOT NULL)""",
    // The columns after expires_at (version 3) copy what a search filters and orders by out of
    // the JSON body; updated_at is in epoch milliseconds, 0 when the status has none.
    """
    CREATE TABLE IF NOT EXISTS results (
      id TEXT PRIMARY KEY, ready INTEGER NOT NULL, body BLOB NOT NULL,
      expires_at INTEGER NOT NULL, name TEXT, state TEXT, queue TEXT, parent_id TEXT,
      updated_at INTEGER NOT NULL DEFAULT 0)""",
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
      grp TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)""",
    // Version 4: workflows. A group's member ids, in order, as a JSON array of strings.
    """
    CREATE TABLE IF NOT EXISTS workflow_groups (
      id TEXT PRIMARY KEY, members BLOB NOT NULL, expires_at INTEGER NOT NULL)""",
    // The steps of a long chain, stored once (Wire.encodeSteps), which its messages refer to.
    """
    CREATE TABLE IF NOT EXISTS workflow_steps (
      id TEXT PRIMARY KEY, body BLOB NOT NULL, expires_at INTEGER NOT NULL)""",
    // A chord: its size, failure policy and callback message as sent, and the count of its parts
    // (kept here so that recording a part reads and writes one chord row and one part row, never
    // all the parts). firing is a WorkflowStore.Firing name.
    """
    CREATE TABLE IF NOT EXISTS chords (
      id TEXT PRIMARY KEY, size INTEGER NOT NULL, policy TEXT NOT NULL,
      callback_id TEXT NOT NULL, callback_queue TEXT NOT NULL, callback_priority INTEGER NOT NULL,
      callback_body BLOB NOT NULL, callback_not_before INTEGER, callback_key TEXT,
      callback_key_window INTEGER, finished INTEGER NOT NULL DEFAULT 0,
      failed INTEGER NOT NULL DEFAULT 0, firing TEXT NOT NULL DEFAULT 'NOT_YET',
      expires_at INTEGER NOT NULL)""",
    // One row per finished member (idx), also before its chord is stored; a part of a stored
    // chord expires with it.
    """
    CREATE TABLE IF NOT EXISTS chord_parts (
      chord_id TEXT NOT NULL, idx INTEGER NOT NULL, failed INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, PRIMARY KEY (chord_id, idx)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS chord_parts_expiry ON chord_parts (expires_at)",
    // Version 5: flow control. The paused queues (Broker.pause), which no claim takes from.
    "CREATE TABLE IF NOT EXISTS paused_queues (queue TEXT PRIMARY KEY) WITHOUT ROWID",
    // The flow-control keys (SqliteLimits): per queue and key, the limit as last stated, the rate's
    // theoretical arrival time (ms), the messages leased and held, and when it may next release.
    """
    CREATE TABLE IF NOT EXISTS limit_keys (
      queue TEXT NOT NULL, key TEXT NOT NULL, permits INTEGER NOT NULL, period_ms INTEGER NOT NULL,
      burst INTEGER NOT NULL, concurrency INTEGER NOT NULL, tat REAL NOT NULL DEFAULT 0,
      running INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0, due_at REAL,
      PRIMARY KEY (queue, key)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS limit_keys_due ON limit_keys (queue, due_at) WHERE due_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS limit_keys_idle ON limit_keys (tat) WHERE running = 0 AND held = 0"
  };

  /**
   * Version 5: the flow-control columns of {@code messages} ({@code held}: 1 while it waits on its
   * limit key, and no plain claim reads it), added to files made by an older Errand.
   */
  private static final String[][] MESSAGE_COLUMNS = {
    {"held", "INTEGER NOT NULL DEFAULT 0"},
    {"limit_key", "TEXT"},
    {"unique_key", "TEXT"}
  };

  /**
   * The indexes of {@code messages}, made once its version 5 columns exist. A claim reads the
   * messages not held, by priority then age ({@code messages_claim}, which replaced version 4's
   * {@code messages_order}); a limit key's held messages have their own partial indexes, so holding
   * many costs the plain claim nothing; a unique key is unique within its queue.
   */
  private static final String[] MESSAGE_INDEXES = {
    "DROP INDEX IF EXISTS messages_order",
    "CREATE INDEX IF NOT EXISTS messages_claim ON messages (queue, held, priority DESC, available_at)",
    """
    CREATE INDEX IF NOT EXISTS messages_held ON messages (queue, limit_key, priority DESC, available_at)
    WHERE held = 1""",
    """
    CREATE INDEX IF NOT EXISTS messages_held_due ON messages (queue, limit_key, available_at)
    WHERE held = 1""",
    """
    CREATE UNIQUE INDEX IF NOT EXISTS messages_unique ON messages (queue, unique_key)
    WHERE unique_key IS NOT NULL"""
  };

  /** Version 3: the search columns of {@code results}, for files made by an older Errand. */
  private static final String[][] RESULT_COLUMNS = {
    {"name", "TEXT"},
    {"state", "TEXT"},
    {"queue", "TEXT"},
    {"parent_id", "TEXT"},
    {"updated_at", "INTEGER NOT NULL DEFAULT 0"}
  };

  /**
   * Fills the search columns of rows written without them from their JSON body: every row of a file
   * from before version 3, and any row an older Errand still running on the file wrote since (every
   * write of version 3 sets state; the state index finds the others at once, so this runs at every
   * open). updatedAt is ISO-8601 text in UTC ({@code Instant.toString()}): whole seconds from its
   * first 19 characters plus the first three digits of the fraction, in integers, which is the
   * {@code toEpochMilli()} (truncating) that a write of version 3 stores. Text it cannot read gives
   * 0; a body that is not JSON is left as it is.
   */
  static final String BACKFILL =
      """
      UPDATE results SET
        name = json_extract(CAST(body AS TEXT), '$.name'),
        state = json_extract(CAST(body AS TEXT), '$.state'),
        queue = json_extract(CAST(body AS TEXT), '$.queue'),
        parent_id = json_extract(CAST(body AS TEXT), '$.parentId'),
        updated_at = COALESCE(
          unixepoch(substr(json_extract(CAST(body AS TEXT), '$.updatedAt'), 1, 19)) * 1000
            + CASE WHEN substr(json_extract(CAST(body AS TEXT), '$.updatedAt'), 20, 1) = '.'
              THEN CAST(substr(json_extract(CAST(body AS TEXT), '$.updatedAt'), 21, 3) AS INTEGER)
              ELSE 0 END,
          0)
      WHERE state IS NULL AND json_valid(CAST(body AS TEXT))""";

  /**
   * One index per search filter, each ordered like a search (newest first, walked backwards), so a
   * page is a range scan that stops after {@code limit + 1} rows, with no sort. Few tasks have a
   * parent: the partial index holds only those.
   */
  private static final String[] SEARCH_INDEXES = {
    "CREATE INDEX IF NOT EXISTS results_updated ON results (updated_at, id)",
    "CREATE INDEX IF NOT EXISTS results_state ON results (state, updated_at, id)",
    "CREATE INDEX IF NOT EXISTS results_name ON results (name, updated_at, id)",
    "CREATE INDEX IF NOT EXISTS results_queue ON results (queue, updated_at, id)",
    """
    CREATE INDEX IF NOT EXISTS results_parent ON results (parent_id, updated_at, id)
    WHERE parent_id IS NOT NULL"""
  };

  static void create(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      checkVersion(version(s));
      // The transaction begins IMMEDIATE: from here on no other process writes, so what is read
      // below (version, columns) stays true until the commit, even if two open an old file at once.
      s.execute("BEGIN IMMEDIATE");
      try {
        checkVersion(version(s));
        for (String ddl : DDL) {
          s.execute(ddl);
        }
        addMissingResultColumns(s);
        addMissingColumns(s, "messages", MESSAGE_COLUMNS);
        for (String ddl : MESSAGE_INDEXES) {
          s.execute(ddl);
        }
        // Before the indexes are made: filling a million rows is faster without them.
        s.execute(BACKFILL);
        for (String ddl : SEARCH_INDEXES) {
          s.execute(ddl);
        }
        if (version(s) != Db.SCHEMA_VERSION) {
          // Only when it changes: setting it writes the file's first page even to the same value.
          s.execute("PRAGMA user_version = " + Db.SCHEMA_VERSION);
        }
        s.execute("COMMIT");
      } catch (SQLException | RuntimeException e) {
        try {
          s.execute("ROLLBACK");
        } catch (SQLException r) {
          // SQLite ends the transaction itself after a full disk or an I/O error: keep that cause.
          if (!SqliteErrors.noTransaction(r)) {
            e.addSuppressed(r);
          }
        }
        throw e;
      }
    }
  }

  /**
   * Checks, without writing, that a file opened read-only holds the tables of this version.
   *
   * @throws SQLException naming the file's version when it is not this one
   */
  static void checkReadable(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      int version = version(s);
      checkVersion(version);
      if (version == 0) {
        throw new SQLException("the file holds no Errand tables (an empty or new file)");
      }
      if (version < Db.SCHEMA_VERSION) {
        throw new SQLException(
            "the file has schema version "
                + version
                + "; this Errand reads version "
                + Db.SCHEMA_VERSION
                + ": open it once read-write (e.g. errand worker) to upgrade it");
      }
    }
  }

  private static int version(Statement s) throws SQLException {
    try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  private static void checkVersion(int version) throws SQLException {
    if (version > Db.SCHEMA_VERSION) {
      throw new SQLException(
          "the file has schema version "
              + version
              + " but this Errand reads up to "
              + Db.SCHEMA_VERSION
              + "; upgrade Errand");
    }
  }

  private static void addMissingResultColumns(Statement s) throws SQLException {
    addMissingColumns(s, "results", RESULT_COLUMNS);
  }

  private static void addMissingColumns(Statement s, String table, String[][] columns)
      throws SQLException {
    Set<String> present = new HashSet<>();
    try (ResultSet rs = s.executeQuery("PRAGMA table_info(" + table + ")")) {
      while (rs.next()) {
        present.add(rs.getString("name"));
      }
    }
    for (String[] column : columns) {
      if (!present.contains(column[0])) {
        s.execute("ALTER TABLE " + table + " ADD COLUMN " + column[0] + " " + column[1]);
      }
    }
  }
}
