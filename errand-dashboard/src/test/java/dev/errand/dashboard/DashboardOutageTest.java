package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.wire.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dashboard while its backend stops answering, comes back, or comes back empty. */
class DashboardOutageTest {

  /**
   * Longer than the dashboard needs to notice an outage, and shorter than forever, which is how
   * long a request that reached the stopped backend would wait.
   */
  static final Duration PATIENCE = Duration.ofSeconds(20);

  final FakeOutageBackend backend = new FakeOutageBackend(Clock.systemUTC());
  final HttpClient http = HttpClient.newHttpClient();
  final Dashboard dashboard = Dashboard.builder(backend).port(0).build().start();

  @AfterEach
  void close() {
    backend.up();
    dashboard.close();
    backend.close();
  }

  record Reply(int status, JsonNode json) {}

  Reply send(String method, String path) throws Exception {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(URI.create(dashboard.url() + path)).timeout(PATIENCE);
    if (method.equals("POST")) {
      String csrf = "0123456789abcdef0123456789abcdef";
      req.header("Cookie", "errand_csrf=" + csrf)
          .header("X-CSRF-Token", csrf)
          .POST(HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), Wire.mapper().readTree(r.body()));
  }

  @Test
  void theApiSaysAtOnceThatTheBackendIsDownAndRecovers() throws Exception {
    assertThat(send("GET", "/api/queues").status()).isEqualTo(200);

    backend.down();
    await().atMost(PATIENCE).until(() -> send("GET", "/api/health").status() == 503);

    // Each would wait for ever if it reached the backend: the dashboard answers instead.
    for (String path : List.of("/api/queues", "/api/overview", "/api/tasks", "/api/workers")) {
      Reply r = send("GET", path);
      assertThat(r.status()).as(path).isEqualTo(503);
      assertThat(r.json().get("error").asText())
          .as(path)
          .startsWith("the backend is not answering: no answer within 2000 ms (since ");
    }
    assertThat(send("POST", "/api/dead-letters/discard").status()).isEqualTo(503);
    JsonNode health = send("GET", "/api/health").json();
    assertThat(health.get("up").asBoolean()).isFalse();
    assertThat(health.get("since").asText()).isNotBlank();
    // What needs no backend still answers.
    assertThat(send("GET", "/api/session").status()).isEqualTo(200);

    backend.up();
    await().atMost(PATIENCE).until(() -> send("GET", "/api/queues").status() == 200);
    assertThat(send("GET", "/api/health").json().get("up").asBoolean()).isTrue();
  }

  @Test
  void theLiveFeedTellsOfTheBackendAndResumesAfterTheEventLogRestarted() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    HttpResponse<Stream<String>> stream =
        http.send(
            HttpRequest.newBuilder(URI.create(dashboard.url() + "/api/events/stream"))
                .header("Accept", "text/event-stream") // as EventSource sends it
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    Thread reader = new Thread(() -> stream.body().forEach(lines::add), "sse-reader");
    reader.setDaemon(true);
    reader.start();
    await().atMost(PATIENCE).until(() -> lines.contains("event: backend"));
    for (int i = 0; i < 5; i++) {
      publish("before-" + i);
    }
    await().atMost(PATIENCE).until(() -> lines.stream().anyMatch(l -> l.contains("before-4")));

    // Redis came back empty: its events are numbered from 1 again, below what was read.
    backend.restartEventLog();
    publish("after-restart");

    await().atMost(PATIENCE).until(() -> lines.stream().anyMatch(l -> l.contains("after-restart")));
    assertThat(lines).contains("event: log-restarted");
    assertThat(lines).noneMatch(l -> l.contains("hunter2")); // events are masked too

    backend.down();
    await().atMost(PATIENCE).until(() -> lines.stream().anyMatch(l -> l.contains("\"up\":false")));
    backend.up();
    await()
        .atMost(PATIENCE)
        .until(
            () ->
                lines.stream()
                    .dropWhile(l -> !l.contains("\"up\":false"))
                    .anyMatch(l -> l.contains("\"up\":true")));
  }

  void publish(String taskId) {
    backend
        .events()
        .publish(
            List.of(
                new Event(
                    0,
                    EventType.TASK_SENT,
                    Instant.now(),
                    taskId,
                    "demo.ok",
                    null,
                    "default",
                    Wire.mapper().createObjectNode().put("password", "hunter2"))));
  }
}
