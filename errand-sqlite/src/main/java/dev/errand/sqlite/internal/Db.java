package dev.errand.sqlite.internal;

import dev.errand.BackendException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * One SQLite connection shared by a backend's stores, guarded by a lock: SQLite runs one writer at
 * a time anyway, and a single connection keeps prepared statements hot. Transactions begin
 * IMMEDIATE so that two processes never deadlock upgrading a read to a write; the busy timeout
 * makes a process wait its turn instead of failing.
 */
public final class Db implements AutoCloseable {

  /** How long a writer waits for another process's transaction: {@value} ms. */
  public static final int BUSY_TIMEOUT_MS = 30_000;

  /** Schema version recorded in {@code PRAGMA user_version}. */
  public static final int SCHEMA_VERSION = 3;

  private final Path file;
  private final Connection connection;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private boolean closed;

  /** A unit of work run inside a transaction, or as one autocommit statement. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Db db) throws SQLException;
  }

  public Db(Path file) {
    this.file = file;
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    config.setBusyTimeout(BUSY_TIMEOUT_MS);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    config.setTempStore(SQLiteConfig.TempStore.MEMORY);
    try {
      this.connection = config.createConnection("jdbc:sqlite:" + file);
      Schema.create(connection);
    } catch (SQLException e) {
      throw new BackendException("cannot open SQLite database " + file + ": " + e.getMessage(), e);
    }
  }

  /** The database file. */
  public Path file() {
    return file;
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

  /** Runs {@code work} in one IMMEDIATE transaction, committing on success. */
  public <T> T tx(String what, Work<T> work) {
    lock.lock();
    try {
      checkOpen();
      connection.setAutoCommit(false);
      try {
        T result = work.run(this);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new BackendException(
          "SQLite " + what + " failed on " + file + ": " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code work} without a transaction (reads, single statements). */
  public <T> T read(String what, Work<T> work) {
    lock.lock();
    try {
      checkOpen();
      return work.run(this);
    } catch (SQLException e) {
      throw new BackendException(
          "SQLite " + what + " failed on " + file + ": " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
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
      for (PreparedStatement ps : statements.values()) {
        try {
          ps.close();
        } catch (SQLException ignored) {
          // closing anyway
        }
      }
      connection.close();
    } catch (SQLException e) {
      throw new BackendException("cannot close SQLite database " + file, e);
    } finally {
      lock.unlock();
    }
  }
}
