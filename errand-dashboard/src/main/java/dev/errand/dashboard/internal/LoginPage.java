package dev.errand.dashboard.internal;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * {@code GET /login} (the form, no script), {@code POST /login} (a session cookie for the right
 * token or user and password) and {@code POST /logout}. The form carries the CSRF token as a field,
 * so another site cannot log a browser into a session of its choosing. The page never repeats what
 * was typed.
 */
final class LoginPage {

  private static final String TEMPLATE = template();

  private final Auth auth;

  LoginPage(Auth auth) {
    this.auth = auth;
  }

  void show(Context ctx) {
    if (!auth.required() || auth.identify(ctx).admitted()) {
      ctx.redirect("/", HttpStatus.SEE_OTHER);
      return;
    }
    page(ctx, HttpStatus.OK, null);
  }

  void submit(Context ctx) {
    if (!auth.required()) {
      ctx.redirect("/", HttpStatus.SEE_OTHER);
      return;
    }
    Duration wait = auth.refusedFor(ctx);
    if (wait.compareTo(Duration.ZERO) > 0) {
      long seconds = Math.max(1, wait.toSeconds());
      ctx.header("Retry-After", Long.toString(seconds));
      page(
          ctx,
          HttpStatus.TOO_MANY_REQUESTS,
          "Too many failed logins from your address: try again in " + seconds + " s.");
      return;
    }
    if (!Cookies.csrfMatches(ctx, ctx.formParam("csrf"))) {
      page(ctx, HttpStatus.FORBIDDEN, "The form had expired: please log in again.");
      return;
    }
    String token = ctx.formParam("token");
    String session = auth.login(ctx, token, ctx.formParam("user"), ctx.formParam("password"));
    if (session == null) {
      boolean byToken = token != null && !token.isEmpty();
      page(ctx, HttpStatus.UNAUTHORIZED, byToken ? "Wrong token." : "Wrong user or password.");
      return;
    }
    Cookies.set(ctx, Auth.SESSION_COOKIE, session, true, auth.sessionTtl());
    ctx.redirect("/", HttpStatus.SEE_OTHER);
  }

  void logout(Context ctx) {
    auth.logout(ctx);
    Cookies.set(ctx, Auth.SESSION_COOKIE, "", true, Duration.ZERO);
    ctx.json(Map.of("loggedOut", true));
  }

  private void page(Context ctx, HttpStatus status, String message) {
    StringBuilder fields = new StringBuilder();
    boolean both = auth.userLogin() && auth.tokenLogin();
    String required = both ? "" : " required";
    if (auth.userLogin()) {
      fields
          .append("<label>User<input name=\"user\" autocomplete=\"username\" autofocus")
          .append(required)
          .append("></label>\n")
          .append("<label>Password<input name=\"password\" type=\"password\"")
          .append(" autocomplete=\"current-password\"")
          .append(required)
          .append("></label>\n");
    }
    if (both) {
      fields.append("<p class=\"muted\">or</p>\n");
    }
    if (auth.tokenLogin()) {
      fields
          .append("<label>Token<input name=\"token\" type=\"password\"")
          .append(" autocomplete=\"current-password\"")
          .append(both ? "" : " autofocus required")
          .append("></label>\n");
    }
    String html =
        TEMPLATE
            .replace("{{csrf}}", html(Cookies.csrf(ctx)))
            .replace("{{fields}}", fields)
            .replace(
                "{{message}}",
                message == null
                    ? ""
                    : "<p class=\"bad\" id=\"login-error\">" + html(message) + "</p>");
    ctx.status(status).contentType("text/html; charset=utf-8").result(html);
  }

  /** {@code s} safe as HTML text or a quoted attribute value. */
  static String html(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static String template() {
    try (InputStream in =
        LoginPage.class.getResourceAsStream("/dev/errand/dashboard/login/login.html")) {
      if (in == null) {
        throw new IllegalStateException("login.html is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
