package dev.errand.postgres.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a schema to this Errand's version with the SQL files in {@code
 * dev/errand/postgres/migrations/} ({@code V<n>__<what>.sql}, listed in {@code index.txt}), the
 * same files a team may run with its own migration tool (placeholder {@code ${schema}}).
 *
 * <p>What was applied is recorded in {@code <schema>.errand_migrations}: version, description and
 * the SHA-256 of the file as shipped. Opening a schema:
 *
 * <ul>
 *   <li>applies the missing versions in order, each in its own transaction (PostgreSQL's DDL is
 *       transactional: a failed file leaves nothing behind), under an advisory lock per schema, so
 *       that two processes opening an old schema at once apply each file once;
 *   <li>refuses a schema with a version newer than this Errand knows (a newer Errand upgraded it):
 *       older code must not write to tables it does not understand;
 *   <li>refuses a schema where an applied file's checksum differs from the shipped one (someone
 *       edited an applied migration): the tables may not be what this code expects.
 * </ul>
 *
 * <p>With migrations turned off ({@code ?migrate=false}, for teams that apply the files
 * themselves), it only checks that the tables exist.
 */
public final class Migrations {

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);
  private static final String DIR = "/dev/errand/postgres/migrations/";
  private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");

  /** One shipped migration file. */
  public record Migration(int version, String description, String sql, String checksum) {}

  private Migrations() {}

  /** The migrations this Errand ships, in version order. */
  public static List<Migration> shipped() {
    List<Migration> out = new ArrayList<>();
    for (String line : read("index.txt").split("\n")) {
      String file = line.strip();
      if (file.isEmpty() || file.startsWith("#")) {
        continue;
      }
      Matcher m = NAME.matcher(file);
      if (!m.matches()) {
        throw new IllegalStateException("bad migration file name in index.txt: " + file);
      }
      String sql = read(file).replace("\r\n", "\n");
      int version = Integer.parseInt(m.group(1));
      if (version != out.size() + 1) {
        throw new IllegalStateException("migrations must be numbered 1, 2, ...: " + file);
      }
      out.add(new Migration(version, m.group(2).replace('_', ' '), sql, sha256(sql)));
    }
    return out;
  }

  /** The newest schema version this Errand knows. */
  public static int latest() {
    return shipped().size();
  }

  /**
   * Brings {@code schema} to the latest version, or checks it is there when {@code migrate} is
   * false.
   *
   * @throws SQLException naming the schema and the problem when it is newer, was changed, or (not
   *     migrating) lacks the tables
   */
  public static void run(Connection c, String schema, boolean migrate) throws SQLException {
    List<Migration> shipped = shipped();
    if (!migrate) {
      checkPresent(c, schema);
      return;
    }
    Map<Integer, String> applied = applied(c, schema);
    check(schema, shipped, applied);
    if (applied.size() == shipped.size()) {
      return; // the common case: no lock, no write
    }
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      lock(c, schema);
      createHistory(c, schema);
      c.commit();
      for (Migration m : shipped) {
        lock(c, schema);
        applied = applied(c, schema);
        check(schema, shipped, applied);
        if (applied.containsKey(m.version())) {
          c.commit();
          continue;
        }
        try (Statement s = c.createStatement()) {
          s.execute(m.sql().replace("${schema}", '"' + schema + '"'));
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO \""
                    + schema
                    + "\".errand_migrations (version, description, checksum) VALUES (?, ?, ?)")) {
          ps.setInt(1, m.version());
          ps.setString(2, m.description());
          ps.setString(3, m.checksum());
          ps.executeUpdate();
        }
        c.commit();
        log.info(
            "applied Errand migration V{} ({}) to schema {}", m.version(), m.description(), schema);
      }
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException r) {
        e.addSuppressed(r);
      }
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }

  private static void lock(Connection c, String schema) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext('errand migrations ' || ?))")) {
      ps.setString(1, schema);
      ps.executeQuery().close();
    }
  }

  private static void createHistory(Connection c, String schema) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"");
      s.execute(
          "CREATE TABLE IF NOT EXISTS \""
              + schema
              + "\".errand_migrations (version integer PRIMARY KEY, description text NOT NULL,"
              + " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
              + " applied_by text NOT NULL DEFAULT current_user)");
    }
  }

  /** The applied versions and their checksums; empty when the schema has no history table. */
  static Map<Integer, String> applied(Connection c, String schema) throws SQLException {
    Map<Integer, String> out = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
      ps.setString(1, '"' + schema + "\".errand_migrations");
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getString(1) == null) {
          return out;
        }
      }
    }
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT version, checksum FROM \""
                    + schema
                    + "\".errand_migrations ORDER BY version")) {
      while (rs.next()) {
        out.put(rs.getInt(1), rs.getString(2));
      }
    }
    return out;
  }

  private static void check(String schema, List<Migration> shipped, Map<Integer, String> applied)
      throws SQLException {
    for (Map.Entry<Integer, String> e : applied.entrySet()) {
      int version = e.getKey();
      if (version > shipped.size()) {
        throw new SQLException(
            "schema '"
                + schema
                + "' has Errand schema version "
                + version
                + ", newer than this Errand knows (up to "
                + shipped.size()
                + "): it was upgraded by a newer Errand; upgrade this one too");
      }
      Migration m = shipped.get(version - 1);
      if (!m.checksum().equals(e.getValue())) {
        throw new SQLException(
            "schema '"
                + schema
                + "': migration V"
                + version
                + " was applied with checksum "
                + e.getValue()
                + " but this Errand ships it with checksum "
                + m.checksum()
                + ": the applied file differs from this Errand's, so its tables may not be what"
                + " it expects");
      }
    }
  }

  private static void checkPresent(Connection c, String schema) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
      ps.setString(1, '"' + schema + "\".messages");
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getString(1) == null) {
          throw new SQLException(
              "schema '"
                  + schema
                  + "' holds no Errand tables and migrations are off (migrate=false): apply"
                  + " Errand's migration files (errand-postgres.jar, dev/errand/postgres/"
                  + "migrations/) with your migration tool, or leave migrate on");
        }
      }
    }
  }

  private static String read(String name) {
    try (InputStream in = Migrations.class.getResourceAsStream(DIR + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + DIR + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + DIR + name, e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
