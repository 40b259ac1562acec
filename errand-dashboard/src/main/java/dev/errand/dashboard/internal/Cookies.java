package dev.errand.dashboard.internal;

import io.javalin.http.Context;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The dashboard's cookies: all SameSite=Strict and Secure when the page came over TLS (directly or
 * through a proxy that says so), and the CSRF token of the double-submit check.
 */
final class Cookies {

  /** The cookie holding the CSRF token that POSTs must repeat in {@link #CSRF_HEADER}. */
  static final String CSRF_COOKIE = "errand_csrf";

  /** The header a POST repeats the CSRF cookie in (the login form: its {@code csrf} field). */
  static final String CSRF_HEADER = "X-CSRF-Token";

  private static final String CSRF_ATTRIBUTE = "errand.csrf";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Cookies() {}

  /**
   * Sets cookie {@code name}; {@code maxAge} null for one that lasts as long as the browser, zero
   * to delete it.
   */
  static void set(Context ctx, String name, String value, boolean httpOnly, Duration maxAge) {
    StringBuilder c = new StringBuilder(name).append('=').append(value).append("; Path=/");
    if (maxAge != null) {
      c.append("; Max-Age=").append(Math.max(0, maxAge.toSeconds()));
    }
    if (httpOnly) {
      c.append("; HttpOnly");
    }
    if (tls(ctx)) {
      c.append("; Secure");
    }
    ctx.res().addHeader("Set-Cookie", c.append("; SameSite=Strict").toString());
  }

  /** Whether the browser reached us over TLS, directly or through a proxy that terminates it. */
  static boolean tls(Context ctx) {
    return ctx.req().isSecure() || "https".equalsIgnoreCase(ctx.header("X-Forwarded-Proto"));
  }

  /** The request's CSRF token, set as a cookie if it had none (once per request). */
  static String csrf(Context ctx) {
    String token = ctx.attribute(CSRF_ATTRIBUTE);
    if (token != null) {
      return token;
    }
    token = ctx.cookie(CSRF_COOKIE);
    if (token == null || !token.matches("[0-9a-f]{32}")) {
      byte[] b = new byte[16];
      RANDOM.nextBytes(b);
      token = HexFormat.of().formatHex(b);
      set(ctx, CSRF_COOKIE, token, false, null); // the page's script reads it
    }
    ctx.attribute(CSRF_ATTRIBUTE, token);
    return token;
  }

  /** Whether {@code given} repeats the request's CSRF cookie. */
  static boolean csrfMatches(Context ctx, String given) {
    String cookie = ctx.cookie(CSRF_COOKIE);
    return cookie != null && given != null && cookie.length() == 32 && Secrets.equal(cookie, given);
  }
}
