package dev.errand.dashboard;

import static dev.errand.workflow.Workflows.chord;
import static dev.errand.workflow.Workflows.group;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.wire.Wire;
import dev.errand.workflow.Chain;
import dev.errand.workflow.Signature;
import dev.errand.workflow.WorkflowState;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code GET /api/workflows/{id}} and {@code POST /api/workflows/{id}/revoke}, and their rules. */
class DashboardWorkflowApiTest extends ApiFixture {

  static final TaskDef<Integer, Integer> DOUBLE =
      TaskDef.of("math.double", Integer.class, Integer.class);

  @SuppressWarnings({"rawtypes", "unchecked"})
  static final TaskDef<List, Integer> SUM = TaskDef.of("math.sum", List.class, Integer.class);

  /** A chain of three whose first step waits an hour: all three are still to run. */
  AsyncResult<Integer> waitingChain() {
    return client.send(
        Chain.of(
                Signature.of(DOUBLE, 1)
                    .options(TaskOptions.builder().countdown(Duration.ofHours(1)).build()))
            .then(DOUBLE)
            .then(DOUBLE));
  }

  @Test
  void aWorkflowIsAnsweredAsItsWorkflowState() throws Exception {
    start(Dashboard.builder(backend));
    AsyncResult<Integer> r =
        client.send(chord(group(Signature.of(DOUBLE, 1), Signature.of(DOUBLE, 2)), SUM));
    WorkflowState w = client.workflow(r.id()).orElseThrow();

    Reply reply = send(get("/api/workflows/" + r.id()));

    assertThat(reply.status()).isEqualTo(200);
    assertThat(Wire.mapper().treeToValue(reply.json(), WorkflowState.class)).isEqualTo(w);
    JsonNode json = reply.json();
    assertThat(json.get("id").asText()).isEqualTo(r.id());
    assertThat(json.get("blockedBy").asText()).isEqualTo(w.steps().get(0).taskId());
    assertThat(json.get("steps"))
        .extracting(
            s ->
                s.get("position").asText()
                    + " "
                    + s.get("task").asText()
                    + " "
                    + s.get("role").asText()
                    + " "
                    + s.get("state").asText())
        .containsExactly(
            "1.1 math.double MEMBER PENDING",
            "1.2 math.double MEMBER PENDING",
            "2 math.sum CALLBACK PENDING");
    assertThat(json.get("steps").get(0).get("group").asText()).isNotBlank();
  }

  @Test
  void revokingAWorkflowRevokesEveryTaskNotFinishedAndSaysHowMany() throws Exception {
    start(Dashboard.builder(backend));
    AsyncResult<Integer> r = waitingChain();

    Reply revoke = post("/api/workflows/" + r.id() + "/revoke", null);

    assertThat(revoke.status()).isEqualTo(200);
    assertThat(revoke.json().get("id").asText()).isEqualTo(r.id());
    assertThat(revoke.json().get("revoked").asInt()).isEqualTo(3);
    assertThat(revoke.json().get("tasks").asInt()).isEqualTo(3);
    assertThat(send(get("/api/workflows/" + r.id())).json().get("steps"))
        .allMatch(s -> s.get("state").asText().equals("REVOKED"));
    assertThat(client.workflow(r.id()).orElseThrow().steps())
        .allMatch(s -> s.state() == TaskState.REVOKED);
    assertThat(post("/api/workflows/" + r.id() + "/revoke", null).json().get("revoked").asInt())
        .as("nothing left")
        .isZero();
  }

  @Test
  void anUnknownOrHostileIdIsA404JsonError() throws Exception {
    start(Dashboard.builder(backend));
    String hostile = "<img src=x onerror=alert(1)>\"'<script>";
    String path =
        "/api/workflows/" + URLEncoder.encode(hostile, StandardCharsets.UTF_8).replace("+", "%20");

    for (Reply r :
        List.of(
            send(get("/api/workflows/nope")),
            send(get(path).header("Accept", "text/html")),
            post(path + "/revoke", null))) {
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(r.raw().headers().firstValue("Content-Security-Policy"))
          .hasValueSatisfying(p -> assertThat(p).contains("default-src 'none'"));
      assertThat(r.json().get("error").asText()).startsWith("no workflow with id ");
    }
    // The id comes back only as a JSON string, the same characters it was sent as.
    assertThat(send(get(path)).json().get("error").asText())
        .isEqualTo("no workflow with id " + hostile);
  }

  @Test
  void revokingNeedsTheCsrfTokenAndIsRefusedReadOnly() throws Exception {
    start(Dashboard.builder(backend));
    AsyncResult<Integer> r = waitingChain();

    Reply forged =
        send(
            get("/api/workflows/" + r.id() + "/revoke")
                .header("Cookie", "errand_csrf=" + "a".repeat(32))
                .header("X-CSRF-Token", "b".repeat(32))
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(forged.status()).isEqualTo(403);
    assertThat(forged.json().get("error").asText()).contains("CSRF");

    dashboard.close();
    start(Dashboard.builder(backend).readOnly(true));
    Reply readOnly = post("/api/workflows/" + r.id() + "/revoke", null);
    assertThat(readOnly.status()).isEqualTo(403);
    assertThat(readOnly.json().get("error").asText()).contains("read-only");
    assertThat(send(get("/api/workflows/" + r.id())).status())
        .as("reading is allowed")
        .isEqualTo(200);

    assertThat(client.workflow(r.id()).orElseThrow().steps())
        .allMatch(s -> s.state() == TaskState.PENDING);
  }
}
