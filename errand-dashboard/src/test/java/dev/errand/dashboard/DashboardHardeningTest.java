package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.wire.Wire;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the dashboard shows an attacker: headers, errors, method override, masked values. */
class DashboardHardeningTest extends ApiFixture {

  @Test
  void everyAnswerCarriesTheSecurityHeaders() throws Exception {
    start(Dashboard.builder(backend));

    for (String path :
        List.of("/", "/app.js", "/api/queues", "/api/tasks/nope", "/nope", "/login", "/metrics")) {
      HttpResponse<String> r = send(get(path)).raw();
      assertThat(r.headers().firstValue("Content-Security-Policy"))
          .as(path)
          .hasValueSatisfying(
              p ->
                  assertThat(p)
                      .contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'")
                      .doesNotContain("unsafe-inline", "unsafe-eval"));
      assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
      assertThat(r.headers().firstValue("Referrer-Policy")).as(path).hasValue("no-referrer");
      assertThat(r.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
    }
    assertThat(send(get("/api/queues")).raw().headers().firstValue("Cache-Control"))
        .hasValue("no-store");
  }

  @Test
  void errorsAreJsonAndNeverHtml() throws Exception {
    start(Dashboard.builder(backend));
    String html = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";

    for (String path :
        List.of(
            "/" + html,
            "/api/" + html,
            "/api/tasks/" + html,
            "/api/overview?range=" + html,
            "/api/tasks?from=" + html)) {
      Reply r = send(get(path).header("Accept", "text/html"));
      assertThat(r.status()).as(path).isBetween(400, 499);
      assertThat(r.raw().headers().firstValue("Content-Type"))
          .as(path)
          .hasValue("application/json");
      assertThat(r.json().get("error").isTextual()).as(path).isTrue();
    }
    // Refused by Jetty before routing: still the same JSON, not Jetty's HTML page.
    Reply malformed = send(get("/api/tasks/%00"));
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.raw().headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(malformed.raw().headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    Reply put = send(get("/api/queues").method("PUT", HttpRequest.BodyPublishers.noBody()));
    assertThat(put.raw().headers().firstValue("Content-Type")).hasValue("application/json");
  }

  @Test
  void aMethodOverrideHeaderIsIgnored() throws Exception {
    start(Dashboard.builder(backend));
    storeDeadLetter("d1");
    String csrf = send(get("/api/csrf")).json().get("token").asText();

    // A GET that says it is a POST stays a GET: no action runs.
    Reply get =
        send(
            get("/api/dead-letters/d1/discard")
                .header("X-HTTP-Method-Override", "POST")
                .header("Cookie", "errand_csrf=" + csrf)
                .header("X-CSRF-Token", csrf));
    assertThat(get.status()).isEqualTo(404);
    assertThat(backend.deadLetters().count(null)).isEqualTo(1);
    // A POST that says it is a GET stays a POST, with the checks of one.
    Reply post =
        send(
            get("/api/dead-letters/d1/discard")
                .header("X-HTTP-Method-Override", "GET")
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(post.status()).isEqualTo(403);
    assertThat(backend.deadLetters().count(null)).isEqualTo(1);
  }

  @Test
  void everyValueShownIsMasked() throws Exception {
    start(Dashboard.builder(backend).mask(List.of("iban")));
    Instant now = Instant.now();
    TaskStatus done =
        new TaskStatus(
                "t-mask",
                "payments.send",
                TaskState.SUCCESS,
                "pay",
                Wire.mapper()
                    .createObjectNode()
                    .put("receipt", "{\"apiKey\":\"k-result\"}")
                    .put("iban", "DE89-result"),
                new TaskError("X", "upstream said password=pw-error", "at token=tb-trace"),
                Wire.mapper().createObjectNode().put("session_token", "st-progress"),
                null,
                1,
                "w1",
                now,
                now,
                now,
                null,
                now)
            .withCall(
                null,
                Wire.mapper()
                    .createObjectNode()
                    .set("kwargs", Wire.mapper().createObjectNode().put("Password", "pw-args")),
                null);
    backend.results().putAll(List.of(done), Duration.ofHours(1));
    backend
        .deadLetters()
        .add(
            new DeadLetter(
                "d-raw",
                null,
                "pay",
                DeadLetterReason.UNDECODABLE,
                new TaskError("X", "not JSON", null),
                null,
                null,
                "kwargs={'password': 'pw-body', 'to': 'ada'} client_secret=cs-body",
                1,
                now,
                now));
    Reply created =
        post(
            "/api/schedules",
            "{\"name\":\"pay\",\"task\":\"payments.send\",\"trigger\":\"@daily\","
                + "\"args\":[{\"private_key\":\"pk-schedule\"}]}");
    assertThat(created.status()).isEqualTo(201);

    String all =
        String.join(
            "\n",
            send(get("/api/tasks/t-mask")).body(),
            send(get("/api/tasks")).body(),
            send(get("/api/overview")).body(),
            send(get("/api/dead-letters")).body(),
            send(get("/api/schedules")).body(),
            created.body());

    assertThat(all)
        .contains("upstream said password=****", "'password': '****', 'to': 'ada'")
        .doesNotContain(
            "k-result",
            "DE89-result",
            "pw-error",
            "tb-trace",
            "st-progress",
            "pw-args",
            "pw-body",
            "cs-body",
            "pk-schedule");
  }
}
