package dev.errand.dashboard;

import dev.errand.dashboard.internal.Server;
import dev.errand.spi.Backend;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The web dashboard and its JSON API under {@code /api}, with live updates over server-sent events
 * and Prometheus metrics at {@code /metrics}. It reads the backend itself (no worker events need
 * switching on), so it shows the truth after any restart.
 *
 * <pre>{@code
 * Dashboard dashboard = Dashboard.builder(backend).port(5555).build().start();
 * }</pre>
 *
 * <p>Safe by default: it binds to {@value #DEFAULT_BIND}; binding anywhere else needs a token or
 * basic auth unless {@link Builder#insecure} says otherwise. Actions are POSTs that need the CSRF
 * token of the page (or a bearer token, which a browser never sends by itself). The pages run under
 * a strict Content-Security-Policy and put every value in as text; secret-looking values are masked
 * in every answer. While the backend does not answer, the API says so at once (503). Thread-safe.
 */
public final class Dashboard implements AutoCloseable {

  /** The port unless another is given: {@value}. */
  public static final int DEFAULT_PORT = 5555;

  /** The address bound unless another is given: {@value}. */
  public static final String DEFAULT_BIND = "127.0.0.1";

  /**
   * Names whose values are always masked: a field or {@code name=value} pair is masked when its
   * name, in lower case and without {@code _ - .} and spaces, contains one of these likewise
   * normalised ({@code apiKey}, {@code API-KEY} and {@code x_api_key} all match {@code api key}).
   */
  public static final List<String> DEFAULT_MASKED =
      List.of(
          "password",
          "passwd",
          "pwd",
          "passphrase",
          "secret",
          "token",
          "api key",
          "credential",
          "private key",
          "authorization");

  /** How long a browser's login lasts unless another is given: 12 hours. */
  public static final Duration DEFAULT_SESSION_TTL = Duration.ofHours(12);

  private final Server server;

  private Dashboard(Server server) {
    this.server = server;
  }

  /** A builder for a dashboard of {@code backend}. */
  public static Builder builder(Backend backend) {
    return new Builder(backend);
  }

  /** Starts serving; returns this. */
  public Dashboard start() {
    server.start();
    return this;
  }

  /** The port served on (the one chosen by the system when 0 was given). */
  public int port() {
    return server.port();
  }

  /** The base URL, e.g. {@code http://127.0.0.1:5555}. */
  public String url() {
    return server.url();
  }

  /** Stops serving. Idempotent. */
  @Override
  public void close() {
    server.close();
  }

  /** Builds a {@link Dashboard}. Not thread-safe. */
  public static final class Builder {
    private final Backend backend;
    private int port = DEFAULT_PORT;
    private String bind = DEFAULT_BIND;
    private String token;
    private String user;
    private String password;
    private boolean insecure;
    private boolean readOnly;
    private final List<String> masked = new ArrayList<>(DEFAULT_MASKED);
    private Duration sessionTtl = DEFAULT_SESSION_TTL;
    private Clock clock = Clock.systemUTC();

    private Builder(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** The port, 0 to 65535 (0 picks a free one); default {@value #DEFAULT_PORT}. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0-65535 but was " + port);
      }
      this.port = port;
      return this;
    }

    /** The address to bind; default {@value #DEFAULT_BIND} (this machine only). */
    public Builder bind(String bind) {
      this.bind = Objects.requireNonNull(bind, "bind");
      return this;
    }

    /**
     * A token that callers must present: scripts as {@code Authorization: Bearer <token>}, a person
     * once on the login page, which gives the browser a session cookie (not the token).
     */
    public Builder token(String token) {
      Objects.requireNonNull(token, "token");
      if (token.length() < 16) {
        throw new IllegalArgumentException("token must be at least 16 characters");
      }
      this.token = token;
      return this;
    }

    /**
     * One user and password: scripts send them as HTTP basic auth, a person types them on the login
     * page. Both are compared together in constant time.
     */
    public Builder basicAuth(String user, String password) {
      this.user = Objects.requireNonNull(user, "user");
      this.password = Objects.requireNonNull(password, "password");
      if (user.isBlank() || password.isEmpty()) {
        throw new IllegalArgumentException("basic auth needs a user and a password");
      }
      return this;
    }

    /** Allows binding beyond this machine without authentication; default false. */
    public Builder insecure(boolean insecure) {
      this.insecure = insecure;
      return this;
    }

    /**
     * Hides and refuses every action (purge, revoke, re-drive, schedule changes); default false.
     */
    public Builder readOnly(boolean readOnly) {
      this.readOnly = readOnly;
      return this;
    }

    /**
     * More names whose values are shown as {@code ****} in the UI and API, in addition to {@link
     * #DEFAULT_MASKED} (which always apply), matched the same way. Calls add up.
     *
     * @throws IllegalArgumentException naming a name with no letter or digit (it would mask
     *     everything)
     */
    public Builder mask(List<String> names) {
      for (String n : names) {
        Objects.requireNonNull(n, "mask name");
        if (n.chars().noneMatch(Character::isLetterOrDigit)) {
          throw new IllegalArgumentException(
              "a name to mask must hold a letter or digit but was '" + n + "'");
        }
      }
      masked.addAll(names);
      return this;
    }

    /**
     * How long a browser stays logged in after the login page, more than zero; default {@link
     * #DEFAULT_SESSION_TTL}. Sessions are kept in memory: a restart ends them all.
     */
    public Builder sessionTtl(Duration ttl) {
      Objects.requireNonNull(ttl, "sessionTtl");
      if (ttl.isZero() || ttl.isNegative()) {
        throw new IllegalArgumentException("sessionTtl must be > 0 but was " + ttl);
      }
      this.sessionTtl = ttl;
      return this;
    }

    /** The clock for ages and time ranges; default the UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the dashboard.
     *
     * @throws IllegalStateException if it would bind beyond this machine with no authentication and
     *     {@link #insecure} was not given
     */
    public Dashboard build() {
      boolean auth = token != null || user != null;
      if (!auth && !insecure && !isLoopback(bind)) {
        throw new IllegalStateException(
            "binding the dashboard to "
                + bind
                + " needs a token or basic auth (or insecure, to allow anyone who can reach it)");
      }
      return new Dashboard(
          new Server(
              new Server.Settings(
                  backend,
                  port,
                  bind,
                  token,
                  user,
                  password,
                  readOnly,
                  List.copyOf(masked),
                  sessionTtl,
                  clock)));
    }

    private static boolean isLoopback(String host) {
      try {
        return InetAddress.getByName(host).isLoopbackAddress();
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("bind address '" + host + "' is not known", e);
      }
    }
  }
}
