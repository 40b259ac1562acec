package dev.errand.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.memory.InMemoryBackend;
import dev.errand.wire.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;

/** A dashboard on a live in-memory backend, and HTTP helpers to call it as the UI does. */
abstract class ApiFixture {

  final InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC());
  final Client client = Client.create(backend);
  final HttpClient http = HttpClient.newHttpClient();
  Dashboard dashboard;

  @AfterEach
  void close() {
    if (dashboard != null) {
      dashboard.close();
    }
    backend.close();
  }

  Dashboard start(Dashboard.Builder b) {
    dashboard = b.port(0).build().start();
    return dashboard;
  }

  record Reply(int status, JsonNode json, String body, HttpResponse<String> raw) {}

  Reply send(HttpRequest.Builder req) throws Exception {
    HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = null;
    try {
      json = Wire.mapper().readTree(r.body());
    } catch (Exception notJson) {
      // metrics are text
    }
    return new Reply(r.statusCode(), json, r.body(), r);
  }

  HttpRequest.Builder get(String path) {
    return HttpRequest.newBuilder(URI.create(dashboard.url() + path));
  }

  /** A POST carrying the CSRF token, as the UI sends it. */
  Reply post(String path, String body) throws Exception {
    String csrf = send(get("/api/csrf")).json().get("token").asText();
    return send(
        get(path)
            .header("Cookie", "errand_csrf=" + csrf)
            .header("X-CSRF-Token", csrf)
            .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body)));
  }

  void storeDeadLetter(String id) {
    backend
        .deadLetters()
        .add(
            new DeadLetter(
                id,
                "t",
                "q",
                DeadLetterReason.FAILED,
                new TaskError("X", "m", null),
                null,
                null,
                "{}",
                1,
                Instant.now(),
                Instant.now()));
  }
}
