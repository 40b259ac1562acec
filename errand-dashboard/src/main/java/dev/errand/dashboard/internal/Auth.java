package dev.errand.dashboard.internal;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is calling. Scripts send {@code Authorization: Bearer <token>} or basic auth on each request;
 * a browser logs in once on the login page and then carries a session cookie (a random id, never
 * the token). Wrong credentials count against the caller's address ({@link LoginThrottle}) and are
 * logged. Thread-safe.
 */
final class Auth {

  private static final Logger log = LoggerFactory.getLogger(Auth.class);

  /** The cookie a browser keeps its session id in. */
  static final String SESSION_COOKIE = "errand_session";

  /** How a request was admitted, or why not. */
  enum Outcome {
    /** No authentication is configured. */
    OPEN,
    /** A right bearer token: a script; a browser never sends one by itself, so no CSRF check. */
    BEARER,
    /** Right basic credentials. */
    BASIC,
    /** A live session cookie. */
    SESSION,
    /** No credentials. */
    NONE,
    /** Wrong credentials. */
    WRONG,
    /** Too many wrong credentials from this address lately: not even checked. */
    THROTTLED;

    boolean admitted() {
      return this == OPEN || this == BEARER || this == BASIC || this == SESSION;
    }
  }

  private final String token;
  private final String user;
  private final byte[] credentials;
  private final Sessions sessions;
  private final LoginThrottle throttle;

  Auth(String token, String user, String password, Sessions sessions, LoginThrottle throttle) {
    this.token = token;
    this.user = user;
    this.credentials = user == null ? null : Secrets.credentials(user, password);
    this.sessions = sessions;
    this.throttle = throttle;
  }

  boolean required() {
    return token != null || user != null;
  }

  boolean tokenLogin() {
    return token != null;
  }

  boolean userLogin() {
    return user != null;
  }

  Duration sessionTtl() {
    return sessions.ttl();
  }

  /** How {@code ctx} is admitted; wrong credentials are counted and logged. */
  Outcome identify(Context ctx) {
    if (!required()) {
      return Outcome.OPEN;
    }
    String h = ctx.header("Authorization");
    if (h != null && (startsWith(h, "Bearer ") || startsWith(h, "Basic "))) {
      if (refusedFor(ctx).compareTo(Duration.ZERO) > 0) {
        return Outcome.THROTTLED;
      }
      boolean bearer = startsWith(h, "Bearer ");
      boolean right = bearer ? token(h.substring(7).trim()) : basic(h.substring(6).trim());
      if (right) {
        throttle.succeeded(ctx.ip());
        return bearer ? Outcome.BEARER : Outcome.BASIC;
      }
      failed(ctx, bearer ? "wrong bearer token" : "wrong basic-auth user or password");
      return Outcome.WRONG;
    }
    return sessions.valid(ctx.cookie(SESSION_COOKIE)) ? Outcome.SESSION : Outcome.NONE;
  }

  /**
   * Checks a login form's credentials: the token, or the user and password.
   *
   * @return the new session's id, or null if the credentials are wrong (counted and logged)
   */
  String login(Context ctx, String givenToken, String givenUser, String givenPassword) {
    boolean right =
        givenToken != null && !givenToken.isEmpty()
            ? token(givenToken)
            : givenUser != null && givenPassword != null && user(givenUser, givenPassword);
    if (!right) {
      failed(
          ctx,
          "wrong " + (givenToken != null && !givenToken.isEmpty() ? "token" : "user or password"));
      return null;
    }
    throttle.succeeded(ctx.ip());
    log.info("dashboard login from {}", ctx.ip());
    return sessions.create();
  }

  void logout(Context ctx) {
    sessions.end(ctx.cookie(SESSION_COOKIE));
  }

  /**
   * How long the caller's address must wait before its credentials are checked again (logged if it
   * must); zero if they are checked now.
   */
  Duration refusedFor(Context ctx) {
    Duration wait = throttle.blockedFor(ctx.ip());
    if (wait.compareTo(Duration.ZERO) <= 0) {
      return Duration.ZERO;
    }
    log.warn(
        "refused a dashboard login from {}: {} failed within {} s, blocked for {} s more",
        ctx.ip(),
        LoginThrottle.MAX_FAILURES,
        LoginThrottle.WINDOW.toSeconds(),
        Math.max(1, wait.toSeconds()));
    return wait;
  }

  private void failed(Context ctx, String how) {
    int n = throttle.failed(ctx.ip());
    // Never what was given: a password typed into the user field would land in the log.
    log.warn(
        "failed dashboard login from {} ({}): {} of {} allowed within {} s",
        ctx.ip(),
        how,
        n,
        LoginThrottle.MAX_FAILURES,
        LoginThrottle.WINDOW.toSeconds());
  }

  private boolean token(String given) {
    return token != null && Secrets.equal(given, token);
  }

  private boolean user(String givenUser, String givenPassword) {
    return credentials != null
        && MessageDigest.isEqual(Secrets.credentials(givenUser, givenPassword), credentials);
  }

  private boolean basic(String encoded) {
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
    int colon = decoded.indexOf(':');
    return colon > 0 && user(decoded.substring(0, colon), decoded.substring(colon + 1));
  }

  private static boolean startsWith(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
  }
}
