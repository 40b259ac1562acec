package dev.errand.redis.internal;

import io.lettuce.core.RedisURI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parsed Redis backend URL: Lettuce's {@code redis://}, {@code rediss://} and {@code
 * redis-sentinel://} forms, Errand's {@code redis-cluster://} and {@code rediss-cluster://} (a
 * Redis Cluster, given by one or more of its nodes), plus Errand's own query parameters {@code
 * prefix} (key prefix, default {@value Keys#DEFAULT_PREFIX}), {@code timeout} (command timeout,
 * default 10 s), {@code events} (event log capacity), {@code durability} and {@code
 * durability_timeout} ({@link Durability}).
 *
 * @param uri what Lettuce connects to (for a cluster: its first seed node)
 * @param clusterSeeds for a cluster, the nodes given to discover it from; else empty
 * @param prefix the key prefix
 * @param timeout how long a command may take before it fails, also while reconnecting
 * @param eventCapacity how many events the event log keeps
 * @param display the URL with any password removed
 */
public record RedisUrl(
    RedisURI uri,
    List<RedisURI> clusterSeeds,
    String prefix,
    Duration timeout,
    int eventCapacity,
    Durability durability,
    String display) {

  public RedisUrl {
    clusterSeeds = List.copyOf(clusterSeeds);
  }

  /**
   * Whether the URL names a Redis Cluster ({@code redis-cluster://}, {@code rediss-cluster://}).
   */
  public boolean cluster() {
    return !clusterSeeds.isEmpty();
  }

  /** Default command timeout: 10 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** Default event log capacity: 10,000 events. */
  public static final int DEFAULT_EVENT_CAPACITY = 10_000;

  /**
   * Parses {@code url}.
   *
   * @throws IllegalArgumentException naming the URL and what is wrong with it
   */
  public static RedisUrl parse(String url) {
    boolean cluster = url.startsWith("redis-cluster://") || url.startsWith("rediss-cluster://");
    if (!(cluster
        || url.startsWith("redis://")
        || url.startsWith("rediss://")
        || url.startsWith("redis-sentinel://"))) {
      throw new IllegalArgumentException(
          "not a Redis URL: '"
              + redact(url)
              + "' (expected redis://host:port/db, rediss://..., redis-sentinel://... or"
              + " redis-cluster://host1:port1,host2:port2)");
    }
    String prefix = Keys.DEFAULT_PREFIX;
    Duration timeout = DEFAULT_TIMEOUT;
    int events = DEFAULT_EVENT_CAPACITY;
    Durability durability = Durability.NONE;
    Duration waitTimeout = Durability.DEFAULT_TIMEOUT;
    Query query =
        Query.take(url, Set.of("prefix", "timeout", "events", "durability", "durability_timeout"));
    for (Map.Entry<String, String> p : query.taken().entrySet()) {
      switch (p.getKey()) {
        case "prefix" -> prefix = p.getValue();
        case "timeout" -> timeout = duration(url, "timeout", p.getValue());
        case "durability" -> durability = Durability.parse(url, p.getValue());
        case "durability_timeout" ->
            waitTimeout = duration(url, "durability_timeout", p.getValue());
        default -> events = positive(url, p.getValue());
      }
    }
    durability = durability.withTimeout(waitTimeout);
    new Keys(prefix); // validates
    List<RedisURI> seeds = cluster ? clusterSeeds(url, query.rest()) : List.of();
    RedisURI uri;
    try {
      uri = cluster ? seeds.get(0) : RedisURI.create(query.rest());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "'" + redact(url) + "' is not a valid Redis URL: " + e.getMessage(), e);
    }
    uri.setTimeout(timeout);
    for (RedisURI seed : seeds) {
      seed.setTimeout(timeout);
    }
    return new RedisUrl(uri, seeds, prefix, timeout, events, durability, redact(url));
  }

  /**
   * The seed nodes of {@code redis-cluster://[[user]:password@]host1[:port1][,host2[:port2]...]}
   * (port 6379 by default), each a Lettuce URI with the credentials, TLS and the remaining query
   * parameters of the whole URL. A cluster has only database 0.
   */
  private static List<RedisURI> clusterSeeds(String url, String rest) {
    boolean tls = rest.startsWith("rediss-cluster://");
    String afterScheme = rest.substring(rest.indexOf("://") + 3);
    String query = "";
    int q = afterScheme.indexOf('?');
    if (q >= 0) {
      query = afterScheme.substring(q);
      afterScheme = afterScheme.substring(0, q);
    }
    String userInfo = "";
    int at = afterScheme.lastIndexOf('@');
    if (at >= 0) {
      userInfo = afterScheme.substring(0, at + 1);
      afterScheme = afterScheme.substring(at + 1);
    }
    int slash = afterScheme.indexOf('/');
    if (slash >= 0) {
      String db = afterScheme.substring(slash + 1);
      if (!(db.isEmpty() || db.equals("0"))) {
        throw new IllegalArgumentException(
            "Redis URL '"
                + redact(url)
                + "': database '"
                + db
                + "' is not possible on a Redis Cluster (it has only database 0)");
      }
      afterScheme = afterScheme.substring(0, slash);
    }
    List<RedisURI> seeds = new ArrayList<>();
    for (String host : afterScheme.split(",")) {
      if (host.isBlank()) {
        throw new IllegalArgumentException(
            "Redis URL '" + redact(url) + "': an empty host in the cluster's node list");
      }
      int colon = host.lastIndexOf(':');
      if (colon >= 0 && colon > host.lastIndexOf(']')) {
        String port = host.substring(colon + 1);
        if (!port.matches("\\d{1,5}")
            || Integer.parseInt(port) < 1
            || Integer.parseInt(port) > 65535) {
          throw new IllegalArgumentException(
              "Redis URL '"
                  + redact(url)
                  + "': '"
                  + port
                  + "' is not a port (node '"
                  + host
                  + "')");
        }
      }
      try {
        seeds.add(RedisURI.create((tls ? "rediss://" : "redis://") + userInfo + host + query));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "'" + redact(url) + "' is not a valid Redis URL: " + e.getMessage(), e);
      }
    }
    return seeds;
  }

  /** The URL with the password (user info) replaced by {@code ***}. */
  public static String redact(String url) {
    int scheme = url.indexOf("://");
    if (scheme < 0) {
      return url;
    }
    int at = url.indexOf('@', scheme);
    int slash = url.indexOf('/', scheme + 3);
    if (at < 0 || (slash >= 0 && slash < at)) {
      return url;
    }
    return url.substring(0, scheme + 3) + "***" + url.substring(at);
  }

  private static Duration duration(String url, String name, String value) {
    try {
      Duration d =
          value.matches("\\d+") ? Duration.ofMillis(Long.parseLong(value)) : parseShort(value);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("must be positive");
      }
      return d;
    } catch (DateTimeParseException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Redis URL '"
              + redact(url)
              + "': "
              + name
              + "='"
              + value
              + "' is not a duration (use e.g. 500ms, 5s, 1m or milliseconds)");
    }
  }

  /**
   * A duration written {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h} or in ISO 8601.
   *
   * @throws DateTimeParseException or NumberFormatException if it is none of these
   */
  static Duration parseShort(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
    }
    if (v.endsWith("s")) {
      return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    if (v.endsWith("m")) {
      return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    if (v.endsWith("h")) {
      return Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    return Duration.parse(value);
  }

  /**
   * A URL's query parameters split in two: those a parser reads ({@code taken}, by name, values
   * URL-decoded, in order) and the URL without them ({@code rest}: the other parameters as written,
   * and any {@code #fragment}), for the next parser, Lettuce in the end.
   */
  record Query(String rest, Map<String, String> taken) {

    static Query take(String url, Set<String> names) {
      String base = url;
      String fragment = "";
      int hash = base.indexOf('#');
      if (hash >= 0) {
        fragment = base.substring(hash);
        base = base.substring(0, hash);
      }
      Map<String, String> taken = new LinkedHashMap<>();
      List<String> passOn = new ArrayList<>();
      int q = base.indexOf('?');
      if (q >= 0) {
        for (String pair : base.substring(q + 1).split("&")) {
          if (pair.isEmpty()) {
            continue;
          }
          int eq = pair.indexOf('=');
          String name = eq < 0 ? pair : pair.substring(0, eq);
          if (names.contains(name)) {
            taken.put(
                name,
                eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
          } else {
            passOn.add(pair);
          }
        }
        base = base.substring(0, q);
      }
      return new Query(
          base + (passOn.isEmpty() ? "" : "?" + String.join("&", passOn)) + fragment, taken);
    }
  }

  private static int positive(String url, String value) {
    try {
      int n = Integer.parseInt(value);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(
        "Redis URL '" + redact(url) + "': events='" + value + "' is not a positive number");
  }
}
