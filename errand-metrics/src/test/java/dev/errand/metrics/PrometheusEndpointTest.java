package dev.errand.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskDef;
import dev.errand.memory.InMemoryBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scrape endpoint, and task meters fed from the event log, as Prometheus reads them. */
class PrometheusEndpointTest {

  final InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC());
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final HttpClient http = HttpClient.newHttpClient();
  PrometheusEndpoint endpoint;

  BackendMetrics gauges;

  @AfterEach
  void close() {
    if (endpoint != null) {
      endpoint.close();
    }
    if (gauges != null) {
      gauges.close();
    }
    backend.close();
  }

  @Test
  void servesQueueGaugesAndTaskCountsInPrometheusFormat() throws Exception {
    gauges = new BackendMetrics(backend);
    Client.create(backend).enqueue(TaskDef.of("mail.send", String.class), "hi");
    gauges.refresh();
    gauges.bindTo(registry);
    TaskMeters tasks = new TaskMeters(registry);
    endpoint = PrometheusEndpoint.start(registry, "127.0.0.1", 0);
    ObjectNode ran = JsonNodeFactory.instance.objectNode().put("runtimeMs", 120);
    tasks.record(event(EventType.TASK_SUCCEEDED, "mail.send", ran));
    tasks.record(event(EventType.TASK_SUCCEEDED, "mail.send", ran));
    tasks.record(event(EventType.TASK_RETRIED, "hooks.post", null));
    tasks.record(
        event(
            EventType.TASK_FAILED,
            "hooks.post",
            JsonNodeFactory.instance.objectNode().put("reason", "FAILED").put("runtimeMs", 3000)));
    tasks.record(event(EventType.TASK_STARTED, "mail.send", null)); // not an outcome: ignored

    HttpResponse<String> r = get("/metrics");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(r.body())
        .contains("errand_queue_ready{queue=\"default\"} 1.0")
        .contains("errand_workers 0.0")
        .contains("errand_backend_up 1.0")
        .contains("errand_tasks_total{name=\"mail.send\",outcome=\"succeeded\"} 2.0")
        .contains("errand_tasks_total{name=\"hooks.post\",outcome=\"failed\"} 1.0")
        .contains("errand_task_retries_total{name=\"hooks.post\"} 1.0")
        .contains(
            "errand_task_runtime_seconds_bucket{name=\"mail.send\",outcome=\"succeeded\",le=\"0.25\"} 2")
        .contains(
            "errand_task_runtime_seconds_bucket{name=\"hooks.post\",outcome=\"failed\",le=\"2.5\"} 0")
        .doesNotContain("outcome=\"started\"");
    assertThat(endpoint.url()).isEqualTo("http://127.0.0.1:" + endpoint.port() + "/metrics");
  }

  @Test
  void answersOnlyGetOnMetrics() throws Exception {
    endpoint = PrometheusEndpoint.start(registry, "127.0.0.1", 0);
    assertThat(get("/").statusCode()).isEqualTo(404);
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Event event(EventType type, String name, ObjectNode data) {
    return new Event(0, type, Instant.now(), "t-1", name, "w-1", "default", data);
  }
}
