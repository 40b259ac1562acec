package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.errand.memory.InMemoryBackend;
import dev.errand.test.MutableClock;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Logging in: the login page, session cookies, logout, throttled guessing, bearer and basic. */
class DashboardAuthTest {

  static final String TOKEN = "t0ken-t0ken-t0ken-t0ken";

  final MutableClock clock = new MutableClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final HttpClient http = HttpClient.newHttpClient(); // follows no redirects
  Dashboard dashboard;

  @AfterEach
  void close() {
    if (dashboard != null) {
      dashboard.close();
    }
    backend.close();
  }

  void start(Dashboard.Builder b) {
    dashboard = b.port(0).clock(clock).build().start();
  }

  HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(dashboard.url() + path));
  }

  HttpResponse<String> send(HttpRequest.Builder req) throws Exception {
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String cookie(HttpResponse<?> r, String name) {
    return r.headers().allValues("Set-Cookie").stream()
        .filter(c -> c.startsWith(name + "="))
        .findFirst()
        .orElse(null);
  }

  static String value(String setCookie) {
    return setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
  }

  /** Posts the login form as a browser does: with the CSRF cookie the form page handed out. */
  HttpResponse<String> login(String fields) throws Exception {
    HttpResponse<String> page = send(request("/login"));
    Matcher field = Pattern.compile("name=\"csrf\" value=\"([0-9a-f]{32})\"").matcher(page.body());
    assertThat(field.find()).as("the form's CSRF field").isTrue();
    String csrf = field.group(1);
    return send(
        request("/login")
            .header("Cookie", "errand_csrf=" + csrf)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("csrf=" + csrf + "&" + fields)));
  }

  static String form(String key, String value) {
    return key + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  @Test
  void aPersonOpeningAPageGetsTheLoginFormAndScriptsGet401Json() throws Exception {
    start(Dashboard.builder(backend).token(TOKEN));

    HttpResponse<String> page = send(request("/"));
    assertThat(page.statusCode()).isEqualTo(303);
    assertThat(page.headers().firstValue("Location")).hasValue("/login");

    HttpResponse<String> form = send(request("/login"));
    assertThat(form.statusCode()).isEqualTo(200);
    assertThat(form.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(form.headers().firstValue("Content-Security-Policy"))
        .hasValueSatisfying(p -> assertThat(p).contains("script-src 'self'"));
    assertThat(form.body()).contains("name=\"token\"").doesNotContain("<script");

    HttpResponse<String> api = send(request("/api/queues"));
    assertThat(api.statusCode()).isEqualTo(401);
    assertThat(api.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(api.body()).contains("log in at /login");
  }

  @Test
  void aLoginGivesASessionCookieThatIsNotTheTokenUntilLogout() throws Exception {
    start(Dashboard.builder(backend).token(TOKEN));

    HttpResponse<String> wrong = login(form("token", "<b>guess</b>-guess-guess"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).contains("Wrong token.").doesNotContain("guess");
    assertThat(cookie(wrong, "errand_session")).isNull();

    HttpResponse<String> in = login(form("token", TOKEN));
    assertThat(in.statusCode()).isEqualTo(303);
    String session = cookie(in, "errand_session");
    assertThat(session)
        .contains("HttpOnly", "SameSite=Strict", "Max-Age=" + Duration.ofHours(12).toSeconds())
        .doesNotContain(TOKEN)
        .doesNotContain("Secure");
    String id = value(session);
    assertThat(send(request("/api/queues").header("Cookie", "errand_session=" + id)).statusCode())
        .isEqualTo(200);

    // Logout is an action: it needs the CSRF token like any other.
    String csrf = value(cookie(send(request("/login")), "errand_csrf"));
    HttpResponse<String> out =
        send(
            request("/logout")
                .header("Cookie", "errand_session=" + id + "; errand_csrf=" + csrf)
                .header("X-CSRF-Token", csrf)
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(out.statusCode()).isEqualTo(200);
    assertThat(cookie(out, "errand_session")).contains("Max-Age=0");
    assertThat(send(request("/api/queues").header("Cookie", "errand_session=" + id)).statusCode())
        .isEqualTo(401);
  }

  @Test
  void aSessionExpiresAndIsSecureBehindTls() throws Exception {
    start(Dashboard.builder(backend).basicAuth("ops", "pa55word").sessionTtl(Duration.ofHours(1)));

    HttpResponse<String> in = login(form("user", "ops") + "&" + form("password", "pa55word"));
    String id = value(cookie(in, "errand_session"));
    assertThat(send(request("/api/queues").header("Cookie", "errand_session=" + id)).statusCode())
        .isEqualTo(200);
    clock.advance(Duration.ofMinutes(61));
    assertThat(send(request("/api/queues").header("Cookie", "errand_session=" + id)).statusCode())
        .isEqualTo(401);

    HttpResponse<String> page = send(request("/login").header("X-Forwarded-Proto", "https"));
    assertThat(cookie(page, "errand_csrf")).contains("Secure");
  }

  @Test
  void theLoginFormNeedsItsCsrfField() throws Exception {
    start(Dashboard.builder(backend).token(TOKEN));

    HttpResponse<String> forged =
        send(
            request("/login")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form("token", TOKEN))));

    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(cookie(forged, "errand_session")).isNull();
  }

  @Test
  void failedLoginsFromOneAddressAreThrottledAndLogged() throws Exception {
    start(Dashboard.builder(backend).token(TOKEN));
    Logger auth = (Logger) LoggerFactory.getLogger("dev.errand.dashboard.internal.Auth");
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    auth.addAppender(logged);
    try {
      for (int i = 0; i < 4; i++) {
        assertThat(
                send(request("/api/queues").header("Authorization", "Bearer wrong-" + i))
                    .statusCode())
            .isEqualTo(401);
      }
      assertThat(login(form("token", "wrong-at-the-form")).statusCode()).isEqualTo(401);

      // Five failures within the minute: even the right token is not checked now.
      HttpResponse<String> right =
          send(request("/api/queues").header("Authorization", "Bearer " + TOKEN));
      assertThat(right.statusCode()).isEqualTo(429);
      assertThat(right.headers().firstValue("Retry-After")).isPresent();
      HttpResponse<String> form = login(form("token", TOKEN));
      assertThat(form.statusCode()).isEqualTo(429);
      assertThat(form.body()).contains("Too many failed logins");

      assertThat(logged.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(m -> assertThat(m).contains("failed dashboard login from 127.0.0.1"))
          .anySatisfy(m -> assertThat(m).contains("refused a dashboard login from 127.0.0.1"))
          .noneSatisfy(m -> assertThat(m).contains("wrong-"));

      clock.advance(Duration.ofMinutes(1));
      assertThat(
              send(request("/api/queues").header("Authorization", "Bearer " + TOKEN)).statusCode())
          .isEqualTo(200);
    } finally {
      auth.detachAppender(logged);
    }
  }

  @Test
  void basicAuthNeedsTheUserAndThePasswordTogether() throws Exception {
    start(Dashboard.builder(backend).basicAuth("ops", "pa55word"));

    for (String pair : List.of("ops:nope", "nope:pa55word", "pa55word:ops", "ops:", ":pa55word")) {
      String basic = Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
      HttpResponse<String> r =
          send(request("/api/queues").header("Authorization", "Basic " + basic));
      assertThat(r.statusCode()).as(pair).isEqualTo(401);
    }
    HttpResponse<String> anonymous = send(request("/api/queues"));
    assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
    // A page's own fetch gets no basic challenge, which would pop a password dialog over it.
    HttpResponse<String> fetch = send(request("/api/queues").header("Sec-Fetch-Mode", "cors"));
    assertThat(fetch.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).doesNotStartWith("Basic"));
    clock.advance(Duration.ofMinutes(1)); // five failures: the address waits a minute
    String good = Base64.getEncoder().encodeToString("ops:pa55word".getBytes());
    assertThat(send(request("/api/queues").header("Authorization", "Basic " + good)).statusCode())
        .isEqualTo(200);
  }

  @Test
  void aReadOnlyDashboardStillLetsYouLogOut() throws Exception {
    start(Dashboard.builder(backend).token(TOKEN).readOnly(true));
    String id = value(cookie(login(form("token", TOKEN)), "errand_session"));
    String csrf = value(cookie(send(request("/login")), "errand_csrf"));

    HttpResponse<String> out =
        send(
            request("/logout")
                .header("Cookie", "errand_session=" + id + "; errand_csrf=" + csrf)
                .header("X-CSRF-Token", csrf)
                .POST(HttpRequest.BodyPublishers.noBody()));

    assertThat(out.statusCode()).isEqualTo(200);
    assertThat(send(request("/api/queues").header("Cookie", "errand_session=" + id)).statusCode())
        .isEqualTo(401);
  }
}
