package dev.errand.postgres.internal;

import dev.errand.BackendException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The connections of one backend and the SQL dialect its stores share. Thread-safe.
 *
 * <p>Every statement is written with two placeholders, expanded once per statement text and cached:
 * {@code {s}} is the backend's schema, quoted (so statements run on any connection, also a caller's
 * whose {@code search_path} is its own), and {@code {now}} is "now" in epoch milliseconds as the
 * <em>database</em> decides it: {@code statement_timestamp()} (stable within a statement, so an
 * index can use it), so a worker's own clock never decides a lease, a delay or an expiry. A backend
 * opened with a test clock sets that clock's time as a session setting ({@value #NOW_SETTING}) on
 * every connection it hands out, and {@code {now}} reads that instead.
 */
public final class Pg {

  /** The session setting that holds a test clock's time, in ms. */
  static final String NOW_SETTING = "errand.now";

  private static final String DB_NOW = "(extract(epoch from statement_timestamp()) * 1000)::bigint";
  private static final String TEST_NOW = "current_setting('" + NOW_SETTING + "')::bigint";
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_$]{0,62}");

  private final DataSource dataSource;
  private final String schema;
  private final String quotedSchema;
  private final Clock testClock; // null: the database's clock decides
  private final String describe;
  private final Map<String, String> expanded = new ConcurrentHashMap<>();

  /** A unit of work on one connection, in a transaction or not. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Tx tx) throws SQLException;
  }

  /**
   * @param dataSource where connections come from
   * @param schema the schema of the tables, already {@linkplain #checkSchema checked}
   * @param testClock null in production (the database's clock decides), else the clock that does
   * @param describe the backend's description, for error messages
   */
  public Pg(DataSource dataSource, String schema, Clock testClock, String describe) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.schema = checkSchema(schema);
    this.quotedSchema = '"' + schema + '"';
    this.testClock = testClock;
    this.describe = describe;
  }

  /**
   * Checks a schema name: lower case letters, digits, {@code _} and {@code $}, starting with a
   * letter or {@code _}, at most 63 characters (PostgreSQL's identifiers, without quoting rules).
   *
   * @throws IllegalArgumentException naming the value otherwise
   */
  public static String checkSchema(String schema) {
    if (schema == null || !IDENTIFIER.matcher(schema).matches()) {
      throw new IllegalArgumentException(
          "schema must be 1-63 lower case letters, digits, '_' or '$', starting with a letter or"
              + " '_', but was '"
              + schema
              + "'");
    }
    return schema;
  }

  /** The schema of the tables, unquoted. */
  public String schema() {
    return schema;
  }

  /** The schema, quoted for SQL. */
  public String quotedSchema() {
    return quotedSchema;
  }

  /** The data source connections come from. */
  public DataSource dataSource() {
    return dataSource;
  }

  /** Whether a test clock decides time (else the database's clock does). */
  public boolean testClock() {
    return testClock != null;
  }

  /** The backend's description, for messages. */
  public String describe() {
    return describe;
  }

  /** {@code sql} with its placeholders expanded; cached. */
  public String sql(String sql) {
    return expanded.computeIfAbsent(
        sql,
        s ->
            s.replace("{s}", quotedSchema).replace("{now}", testClock != null ? TEST_NOW : DB_NOW));
  }

  /**
   * Runs {@code work} in one transaction on a pooled connection, committing on success and rolling
   * back on any failure.
   *
   * @throws BackendException naming {@code what} and the cause
   */
  public <T> T tx(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      if (auto) {
        c.setAutoCommit(false);
      }
      try (Tx tx = new Tx(this, c)) {
        tx.setTestTime();
        T result = work.run(tx);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        rollback(c, e);
        throw e;
      } finally {
        if (auto) {
          c.setAutoCommit(true);
        }
      }
    } catch (SQLException e) {
      throw PgErrors.failure(what, describe, e);
    }
  }

  /**
   * Runs {@code work} on a pooled connection in autocommit mode: reads, and single statements that
   * are atomic by themselves.
   */
  public <T> T read(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection();
        Tx tx = new Tx(this, c)) {
      tx.setTestTime();
      return work.run(tx);
    } catch (SQLException e) {
      throw PgErrors.failure(what, describe, e);
    }
  }

  /**
   * Runs {@code work} on the caller's connection, inside the caller's transaction: nothing is
   * committed or rolled back here. The connection must be in a transaction (auto-commit off), so
   * that what is written exists only if the caller commits.
   *
   * @throws IllegalStateException if the connection is in auto-commit mode
   */
  public <T> T joined(String what, Connection c, Work<T> work) {
    try {
      if (c.getAutoCommit()) {
        throw new IllegalStateException(
            "the connection is in auto-commit mode: an enqueue on it would commit at once; call"
                + " setAutoCommit(false) (begin a transaction) before enqueueing on it");
      }
      try (Tx tx = new Tx(this, c)) {
        tx.setTestTime();
        return work.run(tx);
      }
    } catch (SQLException e) {
      throw PgErrors.failure(what, describe, e);
    }
  }

  private static void rollback(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException r) {
      cause.addSuppressed(r);
    }
  }

  /**
   * One connection in use by one unit of work: statements prepared on it are kept until the work
   * ends. Not thread-safe.
   */
  public static final class Tx implements AutoCloseable {
    private final Pg pg;
    private final Connection connection;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    private Long now;

    Tx(Pg pg, Connection connection) {
      this.pg = pg;
      this.connection = connection;
    }

    private void setTestTime() throws SQLException {
      if (pg.testClock != null) {
        PreparedStatement ps = prepare("SELECT set_config('" + NOW_SETTING + "', ?, false)");
        ps.setString(1, Long.toString(pg.testClock.millis()));
        ps.executeQuery().close();
      }
    }

    /** The connection. */
    public Connection connection() {
      return connection;
    }

    /** The backend's SQL helper. */
    public Pg pg() {
      return pg;
    }

    /** A statement for {@code sql} (placeholders expanded), prepared once for this unit of work. */
    public PreparedStatement prepare(String sql) throws SQLException {
      String text = pg.sql(sql);
      PreparedStatement ps = statements.get(text);
      if (ps == null) {
        ps = connection.prepareStatement(text);
        statements.put(text, ps);
      }
      return ps;
    }

    /** Runs statements without parameters. */
    public void execute(String sql) throws SQLException {
      try (Statement s = connection.createStatement()) {
        s.execute(pg.sql(sql));
      }
    }

    /**
     * Now, as the database decides it, in epoch ms: read once per unit of work (one round trip the
     * first time). Statements on the hot path use {@code {now}} in their text instead.
     */
    public long now() throws SQLException {
      if (now == null) {
        try (ResultSet rs = prepare("SELECT {now}").executeQuery()) {
          rs.next();
          now = rs.getLong(1);
        }
      }
      return now;
    }

    @Override
    public void close() throws SQLException {
      SQLException first = null;
      for (PreparedStatement ps : statements.values()) {
        try {
          ps.close();
        } catch (SQLException e) {
          if (first == null) {
            first = e;
          }
        }
      }
      statements.clear();
      if (first != null) {
        throw first;
      }
    }
  }
}
