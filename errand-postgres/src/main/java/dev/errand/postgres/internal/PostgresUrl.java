package dev.errand.postgres.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed backend URL: {@code postgresql://user:password@host:5432/db?schema=errand} (also {@code
 * postgres://}, several {@code host:port} separated by commas, and {@code jdbc:postgresql://...}
 * with {@code user} and {@code password} parameters). Errand's own parameters are taken out; every
 * other parameter goes to the PostgreSQL JDBC driver as it is ({@code sslmode}, {@code
 * connectTimeout}, {@code ApplicationName}...).
 *
 * @param jdbcUrl the driver's URL, without user and password
 * @param user the user, or null for the driver's default
 * @param password the password, or null
 * @param schema the schema of Errand's tables ({@value #DEFAULT_SCHEMA} by default)
 * @param poolSize the most connections the backend opens ({@value #DEFAULT_POOL_SIZE} by default)
 * @param migrate whether to create and upgrade the tables (true by default)
 * @param events how many events the log keeps, or 0 for the backend's default
 * @param redacted the URL with the password replaced, for logs and {@code describe()}
 */
public record PostgresUrl(
    String jdbcUrl,
    String user,
    String password,
    String schema,
    int poolSize,
    boolean migrate,
    int events,
    String redacted) {

  /** The schema used when the URL names none: {@value}. */
  public static final String DEFAULT_SCHEMA = "errand";

  /** The pool size used when the URL names none: {@value}. */
  public static final int DEFAULT_POOL_SIZE = 10;

  private static final Pattern URL =
      Pattern.compile(
          "(?:jdbc:)?(postgresql|postgres)://(?:([^@/]*)@)?([^/?]*)(?:/([^?]*))?(?:\\?(.*))?");

  /**
   * Parses {@code url}.
   *
   * @throws IllegalArgumentException naming the URL (password hidden) and what is wrong
   */
  public static PostgresUrl parse(String url) {
    if (url == null) {
      throw new IllegalArgumentException("PostgreSQL URL must not be null");
    }
    Matcher m = URL.matcher(url.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "not a PostgreSQL URL: '"
              + redact(url)
              + "'; expected postgresql://user:password@host:5432/database?schema=errand");
    }
    String userInfo = m.group(2);
    String hosts = m.group(3);
    String database = m.group(4) == null ? "" : m.group(4);
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException(
          "PostgreSQL URL '" + redact(url) + "' names no host, e.g. postgresql://localhost/db");
    }
    for (String host : hosts.split(",")) {
      int colon = host.lastIndexOf(':');
      if (colon >= 0 && !host.endsWith("]")) {
        String port = host.substring(colon + 1);
        if (!port.matches("\\d{1,5}")
            || Integer.parseInt(port) > 65535
            || Integer.parseInt(port) == 0) {
          throw new IllegalArgumentException(
              "PostgreSQL URL '" + redact(url) + "' has a bad port '" + port + "' (1-65535)");
        }
      }
    }
    String user = null;
    String password = null;
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), url);
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1), url);
    }
    Map<String, String> params = new LinkedHashMap<>();
    if (m.group(5) != null && !m.group(5).isEmpty()) {
      for (String pair : m.group(5).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decode(eq < 0 ? pair : pair.substring(0, eq), url);
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1), url);
        params.put(key, value);
      }
    }
    if (params.containsKey("user")) {
      user = params.remove("user");
    }
    if (params.containsKey("password")) {
      password = params.remove("password");
    }
    String schema = params.containsKey("schema") ? params.remove("schema") : DEFAULT_SCHEMA;
    try {
      Pg.checkSchema(schema);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "PostgreSQL URL '" + redact(url) + "': " + e.getMessage(), e);
    }
    int pool = DEFAULT_POOL_SIZE;
    if (params.containsKey("pool")) {
      String value = params.remove("pool");
      try {
        pool = Integer.parseInt(value);
      } catch (NumberFormatException e) {
        pool = -1;
      }
      if (pool < 2 || pool > 1000) {
        throw new IllegalArgumentException(
            "PostgreSQL URL '"
                + redact(url)
                + "': pool must be 2-1000 connections but was '"
                + value
                + "'");
      }
    }
    boolean migrate = true;
    if (params.containsKey("migrate")) {
      String value = params.remove("migrate");
      if (!value.equals("true") && !value.equals("false")) {
        throw new IllegalArgumentException(
            "PostgreSQL URL '"
                + redact(url)
                + "': migrate must be true or false but was '"
                + value
                + "'");
      }
      migrate = Boolean.parseBoolean(value);
    }
    int events = 0;
    if (params.containsKey("events")) {
      String value = params.remove("events");
      try {
        events = Integer.parseInt(value);
      } catch (NumberFormatException e) {
        events = -1;
      }
      if (events < 1) {
        throw new IllegalArgumentException(
            "PostgreSQL URL '"
                + redact(url)
                + "': events must be a whole number > 0 but was '"
                + value
                + "'");
      }
    }
    StringBuilder jdbcUrl =
        new StringBuilder("jdbc:postgresql://").append(hosts).append('/').append(database);
    String sep = "?";
    for (Map.Entry<String, String> e : params.entrySet()) {
      jdbcUrl
          .append(sep)
          .append(java.net.URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(java.net.URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
      sep = "&";
    }
    return new PostgresUrl(
        jdbcUrl.toString(), user, password, schema, pool, migrate, events, redact(url));
  }

  /** {@code url} with any password replaced by {@code ***}. */
  public static String redact(String url) {
    if (url == null) {
      return null;
    }
    String out = url.replaceAll("(://[^:@/]*:)[^@/]*@", "$1***@");
    return out.replaceAll("(?i)([?&]password=)[^&]*", "$1***");
  }

  private static String decode(String s, String url) {
    try {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "PostgreSQL URL '" + redact(url) + "' has a bad %-escape in '" + redact(s) + "'", e);
    }
  }
}
