package dev.errand.bench.peers;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/** Connections and the bench's own schema. */
final class Db {

  private static final Pattern SCHEMA = Pattern.compile("peers_bench_[0-9a-f]{8}(_[a-z]+)?");

  private Db() {}

  /**
   * A pool of the product's own, on {@code schema} (HikariCP sets it on each connection: the
   * search path), auto-commit on, as an application's would be.
   */
  static HikariDataSource pool(String jdbc, String schema, String name, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(jdbc);
    c.setPoolName(name);
    // Named so that the noise watch (and anyone looking at pg_stat_activity) can tell them apart.
    c.addDataSourceProperty("ApplicationName", Noise.APPLICATION_PREFIX + "-" + name);
    c.setSchema(schema);
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(size);
    c.setAutoCommit(true);
    c.setConnectionTimeout(30_000);
    return new HikariDataSource(c);
  }

  static void createSchema(String jdbc, String schema) throws SQLException {
    check(schema);
    execute(jdbc, "create schema " + schema);
  }

  /** Drops the schema and all in it; only a name this program makes is accepted. */
  static void dropSchema(String jdbc, String schema) throws SQLException {
    check(schema);
    execute(jdbc, "drop schema if exists " + schema + " cascade");
  }

  static String serverVersion(String jdbc) {
    try (Connection c = DriverManager.getConnection(jdbc);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("show server_version")) {
      return r.next() ? r.getString(1) : "?";
    } catch (SQLException e) {
      return "?";
    }
  }

  static long count(javax.sql.DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  static void update(javax.sql.DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate(sql);
    }
  }

  static void execute(String jdbc, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbc);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static void check(String schema) {
    if (!SCHEMA.matcher(schema).matches()) {
      throw new IllegalArgumentException("not a schema of this bench: " + schema);
    }
  }
}
