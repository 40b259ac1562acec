package dev.errand.postgres.testing;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The PostgreSQL of the tests (errand-postgres and errand-cli): a server this JVM starts for
 * itself, or the one {@value #ENV} names.
 *
 * <p>Without {@value #ENV}, the first call of {@link #jdbcUrl()} starts a {@link
 * PostgresServerProcess} (the {@link PostgresBinary#find() bundled PostgreSQL 13}, else an
 * installed one) on a free port, shared by every test of the JVM and stopped when it exits. With
 * {@value #ENV} set ({@code jdbc:postgresql://host:port/db?user=...} or {@code
 * postgresql://user@host:port/db}), the tests use that server instead, e.g. the machine's own
 * PostgreSQL on CI. Either way each test works in a schema of its own ({@link #newSchema()}) and
 * drops it, and nothing server-wide (settings, roles, databases, stopping it...) is ever done to
 * it: a test that needs that starts a {@link #startPrivate() private server} of its own.
 *
 * <p>Prints one line saying which server the tests use. Thread-safe.
 */
public final class TestPostgres {

  /**
   * The environment variable naming an existing server for the tests: {@code
   * jdbc:postgresql://host:port/db?user=...&password=...} or {@code
   * postgresql://user:password@host:port/db}.
   */
  public static final String ENV = "ERRAND_TEST_POSTGRES";

  private static final Pattern URL =
      Pattern.compile(
          "(?:jdbc:)?postgres(?:ql)?://(?:([^@/?]*)@)?([^/?]+)(?:/([^?]*))?(?:\\?(.*))?",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private static Server server;

  /** Where the tests' server is, and as whom they connect. */
  private record Server(
      String jdbcUrl,
      String hostAndPort,
      String database,
      String user,
      String password,
      List<String> parameters) {}

  /** A unit of work on a connection. */
  @FunctionalInterface
  public interface SqlWork<T> {
    T run(Connection connection) throws SQLException;
  }

  private TestPostgres() {}

  /**
   * The JDBC URL of the tests' server ({@value #ENV}, or the one this JVM started on first call),
   * with its user: {@code jdbc:postgresql://127.0.0.1:port/postgres?user=postgres}.
   */
  public static String jdbcUrl() {
    return server().jdbcUrl;
  }

  /**
   * The Errand backend URL of the tests' server with {@code schema}: {@code
   * postgresql://user@host:port/db?schema=...}, with the password and the driver's parameters
   * ({@code sslmode}...) when {@value #ENV} has them.
   */
  public static String url(String schema) {
    Server s = server();
    String userInfo = "";
    if (s.user != null) {
      userInfo = encode(s.user) + (s.password == null ? "" : ":" + encode(s.password)) + "@";
    }
    return "postgresql://"
        + userInfo
        + s.hostAndPort
        + "/"
        + s.database
        + "?schema="
        + schema
        + s.parameters.stream().map(p -> "&" + p).collect(Collectors.joining());
  }

  /** A schema name no other test and no other run uses: {@code errand_it_} and 8 hex digits. */
  public static String newSchema() {
    return "errand_it_" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Drops {@code schema} and everything in it from the tests' server, if it exists. */
  public static void dropSchema(String schema) {
    if (!SCHEMA.matcher(schema).matches()) {
      throw new IllegalArgumentException("not a test schema: " + schema);
    }
    withConnection(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
          }
          return null;
        });
  }

  /**
   * A new server of the caller's own, for a test that stops, restarts or kills it, or changes
   * server-wide settings. Also started when {@value #ENV} names a server, which such a test would
   * disturb. Close it when done.
   *
   * @param settings server settings ({@code name=value}) over the {@link PostgresServerProcess test
   *     ones}, e.g. {@code synchronous_commit=on} for a test that kills it
   */
  public static PostgresServerProcess startPrivate(String... settings) {
    return PostgresServerProcess.start(PostgresBinary.find(), settings);
  }

  /**
   * Runs {@code work} with a new connection to the tests' server (auto-commit), and returns its
   * result.
   *
   * @throws IllegalStateException wrapping the {@link SQLException} {@code work} or connecting
   *     threw
   */
  public static <T> T withConnection(SqlWork<T> work) {
    return withConnection(jdbcUrl(), work);
  }

  /**
   * Runs {@code work} with a new connection to the server at {@code jdbcUrl} (a {@link
   * PostgresServerProcess#jdbcUrl() private server's}), and returns its result.
   *
   * @throws IllegalStateException wrapping the {@link SQLException} {@code work} or connecting
   *     threw
   */
  public static <T> T withConnection(String jdbcUrl, SqlWork<T> work) {
    try (Connection c = DriverManager.getConnection(jdbcUrl)) {
      return work.run(c);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "on " + masked(jdbcUrl) + ": " + e.getMessage() + " (SQL state " + e.getSQLState() + ")",
          e);
    }
  }

  private static synchronized Server server() {
    if (server == null) {
      String given = System.getenv(ENV);
      if (given != null && !given.isBlank()) {
        server = parse(given.strip());
        String version = withConnection(server.jdbcUrl, TestPostgres::serverVersion);
        say(
            "the PostgreSQL tests use "
                + ENV
                + "="
                + masked(given.strip())
                + " (PostgreSQL "
                + version
                + ")");
      } else {
        long started = System.nanoTime();
        PostgresServerProcess process = PostgresServerProcess.start(PostgresBinary.find());
        long ms = (System.nanoTime() - started) / 1_000_000;
        // Stopped by its own shutdown hook when the JVM exits.
        server =
            new Server(
                process.jdbcUrl(),
                process.address(),
                PostgresServerProcess.DATABASE,
                PostgresServerProcess.USER,
                null,
                List.of());
        say(
            "the PostgreSQL tests use "
                + process
                + ", started for this test JVM in "
                + ms
                + " ms ("
                + ENV
                + "=jdbc:postgresql://host:port/db?user=... to use another)");
      }
    }
    return server;
  }

  /** {@value #ENV}, in either form. */
  private static Server parse(String given) {
    Matcher m = URL.matcher(given);
    if (!m.matches()) {
      throw new IllegalStateException(
          ENV
              + "="
              + masked(given)
              + " is not jdbc:postgresql://host:port/db?user=... nor postgresql://user@host:port/db");
    }
    String user = null;
    String password = null;
    if (m.group(1) != null) {
      String userInfo = m.group(1);
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
    }
    String hostAndPort = m.group(2);
    String database = m.group(3) == null || m.group(3).isEmpty() ? "postgres" : m.group(3);
    List<String> others = new ArrayList<>();
    if (m.group(4) != null) {
      for (String parameter : m.group(4).split("&")) {
        int eq = parameter.indexOf('=');
        String name = eq < 0 ? parameter : parameter.substring(0, eq);
        String value = eq < 0 ? "" : decode(parameter.substring(eq + 1));
        if (name.equals("user")) {
          user = value;
        } else if (name.equals("password")) {
          password = value;
        } else if (!name.isEmpty() && !name.equals("schema")) {
          // The driver's (sslmode...), which the backend passes on to it; url(schema) sets
          // the schema.
          others.add(parameter);
        }
      }
    }
    if (given.regionMatches(true, 0, "jdbc:", 0, 5)) {
      return new Server(given, hostAndPort, database, user, password, others);
    }
    List<String> parameters = new ArrayList<>();
    if (user != null) {
      parameters.add("user=" + encode(user));
    }
    if (password != null) {
      parameters.add("password=" + encode(password));
    }
    parameters.addAll(others);
    String jdbcUrl =
        "jdbc:postgresql://"
            + hostAndPort
            + "/"
            + database
            + (parameters.isEmpty() ? "" : "?" + String.join("&", parameters));
    return new Server(jdbcUrl, hostAndPort, database, user, password, others);
  }

  private static String serverVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("show server_version")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The URL without its password. */
  private static String masked(String url) {
    return url.replaceFirst("//([^:@/?]*):[^@/?]*@", "//$1:***@")
        .replaceAll("(?i)([?&]password=)[^&]*", "$1***");
  }

  // One line in the build's output (Maven shows what a test JVM prints), whatever the logging
  // configuration of the module that runs the tests.
  private static void say(String line) {
    System.out.println("[errand-test] " + line);
  }
}
