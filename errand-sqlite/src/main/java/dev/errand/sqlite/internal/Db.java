package dev.errand.sqlite.internal;

import dev.errand.BackendException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * One SQLite connection shared by a backend's stores, guarded by a lock: SQLite runs one writer at
 * a time anyway, and a single connection keeps prepared statements hot. Transactions begin
 * IMMEDIATE so that two processes never deadlock upgrading a read to a write; the busy timeout
 * makes a process wait its turn instead of failing. Every failure is a {@link BackendException}
 * naming the file and the cause ({@link SqliteErrors}): a full disk, a read-only file, a lock held
 * too long.
 *
 * <p>Opened {@linkplain #readOnly read-only}, the connection never writes (no schema upgrade, no
 * WAL checkpoint), so it works on a full disk and on a file it may not write.
 */
public final class Db implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Db.class);

  /** How long a writer waits for another process's transaction: {@value} ms. */
  public static final int BUSY_TIMEOUT_MS = 30_000;

  /** Schema version recorded in {@code PRAGMA user_version}. */
  public static final int SCHEMA_VERSION = 5;

  /**
   * The size the WAL file is cut back to whenever SQLite starts it over after a checkpoint:
   * {@value} bytes (64 MiB). Without it the WAL keeps the largest size it ever reached.
   */
  public static final long JOURNAL_SIZE_LIMIT = 64L * 1024 * 1024;

  private final Path file;
  private final boolean readOnly;
  private final Connection connection;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private final java.util.concurrent.atomic.AtomicLong commits =
      new java.util.concurrent.atomic.AtomicLong();
  private boolean closed;

  /** A unit of work run inside a transaction, or as one autocommit statement. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Db db) throws SQLException;
  }

  /**
   * Opens {@code file} for reading and writing, creating it and its tables if needed.
   *
   * @throws BackendException naming the file and the cause if SQLite cannot open it
   */
  public Db(Path file) {
    this.file = file;
    this.readOnly = false;
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    config.setBusyTimeout(BUSY_TIMEOUT_MS);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    config.setTempStore(SQLiteConfig.TempStore.MEMORY);
    Connection c = null;
    try {
      c = config.createConnection("jdbc:sqlite:" + file);
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_size_limit = " + JOURNAL_SIZE_LIMIT);
      }
      Schema.create(c);
    } catch (SQLException e) {
      closeQuietly(c, e);
      throw SqliteErrors.failure("open", file, false, e);
    }
    this.connection = c;
  }

  private Db(Path file, Connection connection) {
    this.file = file;
    this.readOnly = true;
    this.connection = connection;
  }

  /**
   * Opens {@code file} for reading only: nothing is written, not even the schema, so this works on
   * a full disk and on a file or directory this process may not write. The file must exist and have
   * the current schema. When the disk is so full that SQLite cannot even create the WAL's
   * shared-memory index ({@code -shm}) and the WAL is empty (the last writer closed the file), the
   * file is read as immutable: then no other process is writing it.
   *
   * @throws BackendException naming the file and the cause if it cannot be read
   */
  public static Db readOnly(Path file) {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(BUSY_TIMEOUT_MS);
    config.setTempStore(SQLiteConfig.TempStore.MEMORY);
    Connection c = null;
    try {
      c = config.createConnection("jdbc:sqlite:" + file);
      Schema.checkReadable(c);
      return new Db(file, c);
    } catch (SQLException e) {
      closeQuietly(c, e);
      if (!walIndexUnavailable(e) || !walEmpty(file)) {
        throw SqliteErrors.failure("open", file, true, e);
      }
      Connection immutable = null;
      try {
        immutable = config.createConnection("jdbc:sqlite:" + immutableUri(file));
        Schema.checkReadable(immutable);
        log.warn(
            "{} is read as immutable: its WAL index cannot be created ({})",
            file,
            SqliteErrors.cause(file, true, e));
        return new Db(file, immutable);
      } catch (SQLException second) {
        closeQuietly(immutable, second);
        e.addSuppressed(second);
        throw SqliteErrors.failure("open", file, true, e);
      }
    }
  }

  /**
   * Whether SQLite could not set up the WAL's shared-memory index ({@code -shm}): no room to create
   * or grow it, or no right to create it (or the WAL) in the file's directory.
   */
  private static boolean walIndexUnavailable(SQLException e) {
    var code = SqliteErrors.code(e);
    return code != null
        && (code.name().startsWith("SQLITE_IOERR_SHM")
            || code.name().equals("SQLITE_IOERR")
            || code.name().startsWith("SQLITE_CANTOPEN")
            || code.name().startsWith("SQLITE_READONLY"));
  }

  private static boolean walEmpty(Path file) {
    Path wal = file.resolveSibling(file.getFileName() + "-wal");
    try {
      return !Files.exists(wal) || Files.size(wal) == 0;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static String immutableUri(Path file) throws SQLException {
    try {
      return new URI("file", null, file.toAbsolutePath().toString(), "immutable=1", null)
          .toASCIIString();
    } catch (URISyntaxException e) {
      throw new SQLException("cannot make a URI of " + file, e);
    }
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  /** Whether this connection was opened read-only. */
  public boolean isReadOnly() {
    return readOnly;
  }

  /** A prepared statement for {@code sql}, cached; call only while holding the lock. */
  public PreparedStatement prepare(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = connection.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  /**
   * Runs {@code work} in one IMMEDIATE transaction, committing on success. On failure the
   * transaction is rolled back and the first error is reported: SQLite ends a transaction itself
   * after some errors (a full disk, an I/O error), and the failed rollback that follows must not
   * hide why.
   */
  public <T> T tx(String what, Work<T> work) {
    lock.lock();
    try {
      checkOpen();
      prepare("BEGIN IMMEDIATE").execute();
      T result;
      try {
        result = work.run(this);
        prepare("COMMIT").execute();
        commits.incrementAndGet();
      } catch (SQLException | RuntimeException | Error e) {
        rollback(e);
        throw e;
      }
      return result;
    } catch (SQLException e) {
      forgetStatements();
      throw SqliteErrors.failure(what, file, readOnly, e);
    } finally {
      lock.unlock();
    }
  }

  private void rollback(Throwable cause) {
    try {
      execute("ROLLBACK");
    } catch (SQLException r) {
      if (!SqliteErrors.noTransaction(r)) {
        cause.addSuppressed(r);
      }
    }
  }

  /** Runs {@code work} without a transaction (reads, single statements). */
  public <T> T read(String what, Work<T> work) {
    lock.lock();
    try {
      checkOpen();
      return work.run(this);
    } catch (SQLException e) {
      forgetStatements();
      throw SqliteErrors.failure(what, file, readOnly, e);
    } finally {
      lock.unlock();
    }
  }

  /** How many transactions this connection has committed. */
  public long commits() {
    return commits.get();
  }

  /**
   * Whether this connection's commits copy the WAL into the database once it holds 1,000 pages
   * (SQLite's default, on) — a copy and an fsync inside the commit that crosses the mark, while the
   * process's other threads wait for the connection. Off where a {@link Janitor} copies instead.
   */
  public void autoCheckpoint(boolean on) {
    if (readOnly) {
      return;
    }
    read(
        "set the WAL's automatic checkpoint",
        d -> {
          d.execute("PRAGMA wal_autocheckpoint = " + (on ? 1000 : 0));
          return null;
        });
  }

  /**
   * Copies what it can of the WAL into the database without waiting for, or holding up, any reader
   * or writer (a passive checkpoint). A read-only connection does nothing.
   */
  public void copyWal() {
    if (readOnly) {
      return;
    }
    read(
        "checkpoint the WAL",
        d -> {
          try (Statement s = connection.createStatement();
              ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            rs.next();
          }
          return null;
        });
  }

  /**
   * Copies the WAL into the database and truncates it to zero bytes, if no other process is reading
   * an older snapshot within {@code waitMillis} (writers wait meanwhile). A read-only connection
   * does nothing.
   *
   * @return true if the WAL was emptied, false if a reader kept it (the next try will do)
   */
  public boolean checkpoint(int waitMillis) {
    if (readOnly) {
      return false;
    }
    return read(
        "checkpoint the WAL",
        d -> {
          // The busy handler decides how long TRUNCATE waits for readers: not the 30 s of writes.
          d.execute("PRAGMA busy_timeout = " + waitMillis);
          try (Statement s = connection.createStatement();
              ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            return rs.next() && rs.getInt(1) == 0;
          } finally {
            d.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MS);
          }
        });
  }

  /**
   * Closes and forgets the cached statements after a failure: the driver closes a statement that
   * failed with most errors (a full disk, an I/O error), and one closed so, if kept, would fail
   * every later use with "statement is not executing". Call with the lock held.
   */
  private void forgetStatements() {
    for (PreparedStatement ps : statements.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // it is being dropped anyway
      }
    }
    statements.clear();
  }

  /** Runs a statement without parameters. */
  public void execute(String sql) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute(sql);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("SQLite backend on " + file + " is closed");
    }
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      forgetStatements();
      connection.close();
    } catch (SQLException e) {
      throw SqliteErrors.failure("close", file, readOnly, e);
    } finally {
      lock.unlock();
    }
  }

  private static void closeQuietly(Connection c, SQLException cause) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        cause.addSuppressed(e);
      }
    }
  }
}
