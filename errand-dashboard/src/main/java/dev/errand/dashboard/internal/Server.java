package dev.errand.dashboard.internal;

import dev.errand.BackendException;
import dev.errand.spi.Backend;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import jakarta.servlet.DispatcherType;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: security headers on everything ({@link SecurityFilter}); then authentication,
 * read-only and CSRF checks and the backend's health in front of every route; then the login page,
 * the API, the event stream, the metrics and the pages. Every answer of the API, errors included,
 * is JSON written through the {@link Masker}.
 */
public final class Server {

  private static final Logger log = LoggerFactory.getLogger(Server.class);

  /** Served without authentication: the login page and its styles. */
  private static final Set<String> PUBLIC = Set.of("/login", "/app.css");

  /** API paths that do not read the backend, so they answer while it is down. */
  private static final Set<String> NO_BACKEND =
      Set.of("/api/session", "/api/health", "/api/csrf", "/api/events/stream");

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
      Duration sessionTtl,
      Clock clock) {}

  private final Settings settings;
  private final Auth auth;
  private final Health health;
  private final Metrics metrics;
  private final EventFeed feed;
  private final Javalin app;
  private final AtomicBoolean closed = new AtomicBoolean();

  public Server(Settings settings) {
    this.settings = settings;
    MaskingJsonMapper json = new MaskingJsonMapper(new Masker(settings.masked()));
    Backend backend = settings.backend();
    this.auth =
        new Auth(
            settings.token(),
            settings.user(),
            settings.password(),
            new Sessions(settings.sessionTtl(), settings.clock()),
            new LoginThrottle(settings.clock()));
    this.health = new Health(() -> backend.events().latest(1), settings.clock());
    this.metrics = new Metrics(backend);
    this.feed = new EventFeed(backend.events(), metrics, json, health);
    LoginPage login = new LoginPage(auth);
    UiFiles ui = new UiFiles();
    Api api = new Api(backend, settings.clock(), settings.readOnly());
    this.app =
        Javalin.create(
            config -> {
              config.jetty.host = settings.bind();
              config.jetty.port = settings.port();
              config.jetty.modifyServletContextHandler(
                  h ->
                      h.addFilter(
                          new FilterHolder(new SecurityFilter()),
                          "/*",
                          EnumSet.of(DispatcherType.REQUEST)));
              config.jetty.modifyServer(s -> s.setErrorHandler(new JsonErrorHandler()));
              config.startup.showJavalinBanner = false;
              config.jsonMapper(json);
              config.routes.before(this::guard);
              for (String path : ui.paths()) {
                config.routes.get(path, ui::serve);
              }
              config.routes.get("/login", login::show);
              config.routes.post("/login", login::submit);
              config.routes.post("/logout", login::logout);
              config.routes.get("/api/session", this::session);
              config.routes.get("/api/health", this::health);
              // Written by hand: the masking mapper would hide a field called "token".
              config.routes.get(
                  "/api/csrf",
                  ctx ->
                      ctx.contentType("application/json")
                          .result("{\"token\":\"" + Cookies.csrf(ctx) + "\"}"));
              api.register(config.routes);
              config.routes.sse("/api/events/stream", feed::join);
              config.routes.get(
                  "/metrics",
                  ctx -> ctx.contentType("text/plain; version=0.0.4").result(metrics.scrape()));
              errors(config.routes);
            });
  }

  /** Every error is JSON {@code {"error": ...}}, never a page that could echo input as HTML. */
  private void errors(io.javalin.config.RoutesConfig r) {
    r.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
    r.exception(NoSuchElementException.class, (e, ctx) -> error(ctx, 404, e.getMessage()));
    r.exception(IllegalStateException.class, (e, ctx) -> error(ctx, 409, e.getMessage()));
    // The probe alone decides whether the backend is down: one failing read does not stop the
    // other pages.
    r.exception(BackendException.class, (e, ctx) -> error(ctx, 503, e.getMessage()));
    r.exception(
        HttpResponseException.class,
        (e, ctx) -> error(ctx, e.getStatus(), HttpStatus.forStatus(e.getStatus()).getMessage()));
    r.exception(
        Exception.class,
        (e, ctx) -> {
          log.error("{} {} failed", ctx.method(), ctx.path(), e);
          error(ctx, 500, "internal error: see the dashboard's log");
        });
    r.error(
        404,
        "*",
        ctx -> {
          if (ctx.result() == null) {
            error(ctx, 404, "not found");
          }
        });
    r.error(
        405,
        "*",
        ctx -> {
          if (ctx.result() == null) {
            error(ctx, 405, "method not allowed");
          }
        });
  }

  private static void error(Context ctx, int status, String message) {
    ctx.status(status).json(Map.of("error", message == null ? "error" : message));
  }

  public void start() {
    app.start();
    health.start();
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
      health.close();
      app.stop();
    }
  }

  /** What the page needs to know of itself: whether to offer actions and a logout. */
  private void session(Context ctx) {
    ctx.json(Map.of("readOnly", settings.readOnly(), "auth", auth.required()));
  }

  private void health(Context ctx) {
    Health.State s = health.state();
    ctx.status(s.up() ? 200 : 503).json(s.toJson());
  }

  /** Authentication, then read-only and CSRF for anything that changes state, then health. */
  private void guard(Context ctx) {
    String path = ctx.path();
    boolean get = ctx.method() == HandlerType.GET || ctx.method() == HandlerType.HEAD;
    if (get) {
      Cookies.csrf(ctx); // every page hands out the token its forms and scripts repeat
    }
    Auth.Outcome who = PUBLIC.contains(path) ? Auth.Outcome.OPEN : auth.identify(ctx);
    if (!who.admitted()) {
      refuse(ctx, who, get);
      return;
    }
    if (!get && !path.equals("/login")) { // the login form checks its own CSRF field
      if (settings.readOnly() && !path.equals("/logout")) {
        stop(ctx, 403, "the dashboard is read-only");
        return;
      }
      // A bearer token is never sent by a browser on its own, so it cannot be forged cross-site.
      if (who != Auth.Outcome.BEARER
          && !Cookies.csrfMatches(ctx, ctx.header(Cookies.CSRF_HEADER))) {
        stop(ctx, 403, "missing or wrong CSRF token");
        return;
      }
    }
    Health.State backend = health.state();
    if (!backend.up() && path.startsWith("/api/") && !NO_BACKEND.contains(path)) {
      // At once, instead of each request waiting for the backend's own timeout.
      ctx.header("Retry-After", Long.toString(Health.INTERVAL.toSeconds()));
      stop(ctx, 503, backend.problem());
    }
  }

  private void refuse(Context ctx, Auth.Outcome who, boolean get) {
    String path = ctx.path();
    if (who == Auth.Outcome.THROTTLED) {
      ctx.header("Retry-After", Long.toString(LoginThrottle.WINDOW.toSeconds()));
      stop(ctx, 429, "too many failed logins from this address: try again later");
    } else if (get && !path.startsWith("/api/") && !path.equals("/metrics")) {
      // A person opening a page: the login form, not a bare error.
      ctx.redirect("/login", HttpStatus.SEE_OTHER);
      ctx.skipRemainingHandlers();
    } else {
      // A script is told how to authenticate; a browser's own fetch gets no basic challenge, so it
      // never pops up a native password dialog over the page.
      if (auth.userLogin() && ctx.header("Sec-Fetch-Mode") == null) {
        ctx.header("WWW-Authenticate", "Basic realm=\"errand\", charset=\"UTF-8\"");
      } else {
        ctx.header("WWW-Authenticate", "Bearer realm=\"errand\"");
      }
      stop(ctx, 401, "authentication required: log in at /login, or send a bearer token");
    }
  }

  private static void stop(Context ctx, int status, String message) {
    error(ctx, status, message);
    ctx.skipRemainingHandlers();
  }
}
