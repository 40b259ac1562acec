package dev.errand.dashboard.internal;

import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The HTTP server: authentication, CSRF and read-only checks in front of every route, then the API,
 * the event stream, the metrics and the pages.
 */
public final class Server {

  /** The cookie holding the CSRF token that POSTs must repeat in {@link #CSRF_HEADER}. */
  static final String CSRF_COOKIE = "errand_csrf";

  /** The header a POST repeats the CSRF cookie in. */
  static final String CSRF_HEADER = "X-CSRF-Token";

  /** The cookie a browser keeps the token in after {@code /login?token=...}. */
  static final String TOKEN_COOKIE = "errand_token";

  /** Everything the server needs, from the builder. */
  public record Settings(
      Backend backend,
      int port,
      String bind,
      String token,
      String user,
      String password,
      boolean readOnly,
      List<String> masked,
      Clock clock) {}

  private final Settings settings;
  private final SecureRandom random = new SecureRandom();
  private final EventFeed feed;
  private final Metrics metrics;
  private final Javalin app;
  private final AtomicBoolean closed = new AtomicBoolean();

  public Server(Settings settings) {
    this.settings = settings;
    this.metrics = new Metrics(settings.backend());
    this.feed = new EventFeed(settings.backend().events(), metrics);
    Api api =
        new Api(
            settings.backend(),
            new Masker(settings.masked()),
            settings.clock(),
            settings.readOnly());
    this.app =
        Javalin.create(
            config -> {
              config.jetty.host = settings.bind();
              config.jetty.port = settings.port();
              config.startup.showJavalinBanner = false;
              config.jsonMapper(new JavalinJackson(Wire.mapper(), false));
              config.staticFiles.add("/dev/errand/dashboard/ui", Location.CLASSPATH);
              config.staticFiles.enableWebjars();
              config.routes.before(this::guard);
              config.routes.get("/login", this::login);
              config.routes.get("/api/csrf", ctx -> ctx.json(java.util.Map.of("token", csrf(ctx))));
              api.register(config.routes);
              config.routes.sse("/api/events/stream", feed::join);
              config.routes.get(
                  "/metrics",
                  ctx -> ctx.contentType("text/plain; version=0.0.4").result(metrics.scrape()));
              config.routes.exception(
                  IllegalArgumentException.class,
                  (e, ctx) -> ctx.status(400).json(java.util.Map.of("error", e.getMessage())));
              config.routes.exception(
                  java.util.NoSuchElementException.class,
                  (e, ctx) -> ctx.status(404).json(java.util.Map.of("error", e.getMessage())));
              config.routes.exception(
                  IllegalStateException.class,
                  (e, ctx) -> ctx.status(409).json(java.util.Map.of("error", e.getMessage())));
            });
  }

  public void start() {
    app.start();
    feed.start();
  }

  public int port() {
    return app.port();
  }

  public String url() {
    String host = settings.bind().contains(":") ? "[" + settings.bind() + "]" : settings.bind();
    return "http://" + host + ":" + port();
  }

  public void close() {
    if (closed.compareAndSet(false, true)) {
      feed.close();
      metrics.close();
      app.stop();
    }
  }

  /** Authentication, then read-only and CSRF for anything that changes state. */
  private void guard(Context ctx) {
    boolean bearer = false;
    if (authRequired() && !ctx.path().equals("/login")) {
      bearer = bearer(ctx);
      if (!bearer && !cookieToken(ctx) && !basic(ctx)) {
        if (settings.user() != null) {
          ctx.header("WWW-Authenticate", "Basic realm=\"errand\", charset=\"UTF-8\"");
        }
        ctx.status(401).json(java.util.Map.of("error", "authentication required"));
        ctx.skipRemainingHandlers();
        return;
      }
    }
    if (ctx.method() == HandlerType.GET || ctx.method() == HandlerType.HEAD) {
      csrf(ctx); // every page hands out the token its forms and scripts repeat
      return;
    }
    if (settings.readOnly()) {
      ctx.status(403).json(java.util.Map.of("error", "the dashboard is read-only"));
      ctx.skipRemainingHandlers();
      return;
    }
    // A bearer token is never sent by a browser on its own, so it cannot be forged cross-site.
    if (!bearer && !sameToken(ctx.cookie(CSRF_COOKIE), ctx.header(CSRF_HEADER))) {
      ctx.status(403).json(java.util.Map.of("error", "missing or wrong CSRF token"));
      ctx.skipRemainingHandlers();
    }
  }

  private boolean authRequired() {
    return settings.token() != null || settings.user() != null;
  }

  private boolean bearer(Context ctx) {
    String h = ctx.header("Authorization");
    return settings.token() != null
        && h != null
        && h.startsWith("Bearer ")
        && equal(h.substring(7).trim(), settings.token());
  }

  private boolean cookieToken(Context ctx) {
    return settings.token() != null && equal(ctx.cookie(TOKEN_COOKIE), settings.token());
  }

  private boolean basic(Context ctx) {
    String h = ctx.header("Authorization");
    if (settings.user() == null || h == null || !h.startsWith("Basic ")) {
      return false;
    }
    String decoded;
    try {
      decoded =
          new String(Base64.getDecoder().decode(h.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
    int colon = decoded.indexOf(':');
    return colon > 0
        && equal(decoded.substring(0, colon), settings.user())
        && equal(decoded.substring(colon + 1), settings.password());
  }

  private void login(Context ctx) {
    String given = ctx.queryParam("token");
    if (settings.token() == null || !equal(given, settings.token())) {
      ctx.status(401).json(java.util.Map.of("error", "wrong or missing token"));
      return;
    }
    ctx.res()
        .addHeader(
            "Set-Cookie",
            TOKEN_COOKIE + "=" + settings.token() + "; Path=/; HttpOnly; SameSite=Strict");
    ctx.redirect("/");
  }

  /** The request's CSRF token, set as a cookie if it had none. */
  private String csrf(Context ctx) {
    String token = ctx.cookie(CSRF_COOKIE);
    if (token == null || token.length() != 32) {
      byte[] b = new byte[16];
      random.nextBytes(b);
      token = HexFormat.of().formatHex(b);
      ctx.res().addHeader("Set-Cookie", CSRF_COOKIE + "=" + token + "; Path=/; SameSite=Strict");
    }
    return token;
  }

  private static boolean sameToken(String cookie, String header) {
    return cookie != null && header != null && cookie.length() == 32 && equal(cookie, header);
  }

  /** Compares in constant time, so the time taken does not leak how much of a secret matched. */
  private static boolean equal(String a, String b) {
    return a != null
        && b != null
        && MessageDigest.isEqual(
            a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
