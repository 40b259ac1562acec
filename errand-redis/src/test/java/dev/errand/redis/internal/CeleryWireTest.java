package dev.errand.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.wire.CallHistory;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Celery's envelopes and result records, read and written as Celery 5.2 does (captured). */
class CeleryWireTest {

  /** Verbatim from a Celery 5.2.6 producer: add.delay(2, 3) (../shared/celery, S01). */
  static final String S01 =
      "{\"body\": \"W1syLCAzXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkIjogbnVsbH1d\","
          + " \"content-encoding\": \"utf-8\", \"content-type\": \"application/json\", \"headers\":"
          + " {\"lang\": \"py\", \"task\": \"proto_app.add\", \"id\":"
          + " \"bc4094df-efff-4603-ac4d-14a1d4aeea37\", \"shadow\": null, \"eta\": null, \"expires\":"
          + " null, \"group\": null, \"group_index\": null, \"retries\": 0, \"timelimit\": [null,"
          + " null], \"root_id\": \"bc4094df-efff-4603-ac4d-14a1d4aeea37\", \"parent_id\": null,"
          + " \"argsrepr\": \"(2, 3)\", \"kwargsrepr\": \"{}\", \"origin\": \"gen7215@vm\","
          + " \"ignore_result\": false}, \"properties\": {\"correlation_id\":"
          + " \"bc4094df-efff-4603-ac4d-14a1d4aeea37\", \"reply_to\":"
          + " \"e71d8e2e-21ee-30cc-8eeb-fc3608803180\", \"delivery_mode\": 2, \"delivery_info\":"
          + " {\"exchange\": \"\", \"routing_key\": \"celery\"}, \"priority\": 0, \"body_encoding\":"
          + " \"base64\", \"delivery_tag\": \"f75bcfcf-55c5-4a9c-9523-e1bf04b33991\"}}";

  @Test
  void readsWhatCeleryWrites() throws Exception {
    CeleryWire.Read r = CeleryWire.read(S01.getBytes(StandardCharsets.UTF_8), "celery");
    assertThat(r.id()).isEqualTo("bc4094df-efff-4603-ac4d-14a1d4aeea37");
    assertThat(r.task()).isEqualTo("proto_app.add");
    assertThat(r.errandPriority()).isEqualTo(5); // Celery's default is Errand's default
    assertThat(r.eta()).isNull();
    TaskMessage m = r.message();
    assertThat(m.args().toString()).isEqualTo("[2,3]");
    assertThat(m.kwargs().isEmpty()).isTrue();
    assertThat(m.queue()).isEqualTo("celery");
    assertThat(m.headers())
        .containsEntry(CeleryWire.ROOT_ID, "bc4094df-efff-4603-ac4d-14a1d4aeea37")
        .doesNotContainKey(CeleryWire.EMBED); // an embed of nulls carries nothing
  }

  @Test
  void writesWhatCeleryReads() throws Exception {
    TaskMessage m =
        new TaskMessage(
            Wire.PLAIN_VERSION,
            "id-1",
            "proj.tasks.Add",
            (com.fasterxml.jackson.databind.node.ArrayNode)
                Wire.mapper().readTree("[2, \"\\u00e9\"]"),
            (ObjectNode) Wire.mapper().readTree("{\"k\": {\"n\": [1]}}"),
            "javaq",
            2,
            Instant.parse("2026-11-22T08:40:47.902299123Z"),
            Instant.parse("2026-11-22T09:00:00Z"),
            1,
            null,
            null,
            Map.of(CallHistory.PARENT_HEADER, "p-1", "tenant", "acme"),
            new MessageOptions(null, 20_000L, 30_500L, true, null, null, null));
    byte[] raw = CeleryWire.write(m, "tag-1", Instant.parse("2026-11-22T08:59:00Z"));
    JsonNode env = Wire.mapper().readTree(raw);
    JsonNode h = env.get("headers");
    assertThat(h.get("task").asText()).isEqualTo("proj.tasks.Add");
    assertThat(h.get("id").asText()).isEqualTo("id-1");
    assertThat(h.get("eta").asText()).isEqualTo("2026-11-22T08:40:47.902299+00:00"); // 6 digits
    assertThat(h.get("expires").asText()).isEqualTo("2026-11-22T09:00:00.000000+00:00");
    assertThat(h.get("retries").asInt()).isEqualTo(1);
    assertThat(h.get("timelimit").toString()).isEqualTo("[30.5,20]"); // [hard, soft] seconds
    assertThat(h.get("root_id").asText()).isEqualTo("id-1");
    assertThat(h.get("parent_id").asText()).isEqualTo("p-1");
    assertThat(h.get("ignore_result").asBoolean()).isTrue();
    assertThat(h.get("group_index").isNull()).isTrue();
    JsonNode p = env.get("properties");
    assertThat(p.get("delivery_info").toString())
        .isEqualTo("{\"exchange\":\"\",\"routing_key\":\"javaq\"}");
    assertThat(p.get("priority").asInt()).isEqualTo(6); // Errand 2 = Celery 6
    assertThat(p.get("delivery_tag").asText()).isEqualTo("tag-1");
    assertThat(p.get("expiration").asText()).isEqualTo("60000");
    JsonNode body = Wire.mapper().readTree(Base64.getDecoder().decode(env.get("body").asText()));
    assertThat(body.toString())
        .isEqualTo(
            "[[2,\"é\"],{\"k\":{\"n\":[1]}},{\"callbacks\":null,\"errbacks\":null,\"chain\":null,\"chord\":null}]");

    // and back: what Errand alone reads (the tenant header) survives a Celery queue
    CeleryWire.Read r = CeleryWire.read(raw, "javaq");
    TaskMessage back = r.message();
    assertThat(back.headers())
        .containsEntry("tenant", "acme")
        .containsEntry(CallHistory.PARENT_HEADER, "p-1");
    assertThat(back.options().softTimeLimitMs()).isEqualTo(20_000L);
    assertThat(back.options().hardTimeLimitMs()).isEqualTo(30_500L);
    assertThat(back.options().ignoreResult()).isTrue();
    assertThat(back.eta()).isEqualTo(Instant.parse("2026-11-22T08:40:47.902299Z"));
    assertThat(back.priority()).isEqualTo(2);
  }

  @Test
  void prioritiesMapDefaultToDefault() {
    for (int e = 0; e <= 4; e++) {
      assertThat(CeleryWire.toErrand(CeleryWire.toCelery(e))).isEqualTo(e);
    }
    assertThat(CeleryWire.toCelery(5)).isZero();
    assertThat(CeleryWire.toCelery(9)).isZero();
    assertThat(CeleryWire.bucketKey("q", 0)).isEqualTo("q");
    assertThat(CeleryWire.bucketKey("q", 5)).isEqualTo("q\u0006\u00163");
    assertThat(CeleryWire.bucketKey("q", 8)).isEqualTo("q\u0006\u00166");
    assertThat(CeleryWire.bucketKey("q", 9)).isEqualTo("q\u0006\u00169");
  }

  @Test
  void timesReadAsIsoAndWrittenAsCeleryParsesThem() {
    assertThat(CeleryWire.parseTime("2026-11-22T08:40:47.902299+00:00"))
        .isEqualTo(Instant.parse("2026-11-22T08:40:47.902299Z"));
    assertThat(CeleryWire.parseTime("2026-11-22T10:40:47+02:00"))
        .isEqualTo(Instant.parse("2026-11-22T08:40:47Z"));
    assertThat(CeleryWire.parseTime("2026-11-22T08:40:47.5Z"))
        .isEqualTo(Instant.parse("2026-11-22T08:40:47.500Z"));
    assertThat(CeleryWire.parseTime("2026-11-22T08:40:47")) // naive: UTC, Celery's default
        .isEqualTo(Instant.parse("2026-11-22T08:40:47Z"));
    assertThatThrownBy(() -> CeleryWire.parseTime("tomorrow"))
        .hasMessageContaining("'tomorrow' is not an ISO 8601 time");
    assertThat(CeleryWire.formatTime(Instant.parse("2026-11-22T08:40:47Z")))
        .isEqualTo("2026-11-22T08:40:47.000000+00:00");
  }

  @Test
  void kombu53TypeTagsReadAsPlainValues() throws Exception {
    JsonNode tagged =
        Wire.mapper()
            .readTree(
                "[{\"__type__\": \"datetime\", \"__value__\": \"2026-11-22T08:40:47\"},"
                    + " {\"u\": {\"__type__\": \"uuid\", \"__value__\": {\"hex\":"
                    + " \"bc4094dfefff4603ac4d14a1d4aeea37\", \"version\": 4}}},"
                    + " {\"__type__\": \"x\", \"__value__\": 1, \"more\": 2}]");
    assertThat(CeleryWire.untag(tagged).toString())
        .isEqualTo(
            "[\"2026-11-22T08:40:47\",{\"u\":\"bc4094df-efff-4603-ac4d-14a1d4aeea37\"},"
                + "{\"__type__\":\"x\",\"__value__\":1,\"more\":2}]");
  }

  @Test
  void resultRecordsAsCeleryWritesThem() throws Exception {
    Instant done = Instant.parse("2026-11-22T08:41:06.084943Z");
    TaskStatus ok =
        new TaskStatus(
            "t1",
            "proj.add",
            TaskState.SUCCESS,
            "celery",
            Wire.mapper().readTree("5"),
            null,
            null,
            null,
            1,
            "w1",
            null,
            null,
            done,
            null,
            done);
    JsonNode m = Wire.mapper().readTree(CeleryMeta.write(ok, null, null));
    assertThat(m.get("status").asText()).isEqualTo("SUCCESS");
    assertThat(m.get("result").asInt()).isEqualTo(5);
    assertThat(m.get("traceback").isNull()).isTrue();
    assertThat(m.get("children").isArray()).isTrue();
    assertThat(m.get("date_done").asText()).isEqualTo("2026-11-22T08:41:06.084943");
    assertThat(m.get("task_id").asText()).isEqualTo("t1");

    TaskStatus failed =
        new TaskStatus(
            "t2",
            "proj.fail",
            TaskState.FAILURE,
            "celery",
            null,
            new TaskError("java.lang.IllegalArgumentException", "java says no", "at X"),
            null,
            null,
            1,
            "w1",
            null,
            null,
            done,
            null,
            done);
    JsonNode f = Wire.mapper().readTree(CeleryMeta.write(failed, null, null));
    assertThat(f.get("result").toString())
        .isEqualTo(
            "{\"exc_type\":\"IllegalArgumentException\",\"exc_message\":[\"java says no\"],"
                + "\"exc_module\":\"java.lang\"}");
    assertThat(f.get("traceback").asText()).isEqualTo("at X");

    TaskStatus unknown =
        new TaskStatus(
            "t3",
            "no.such",
            TaskState.FAILURE,
            "celery",
            null,
            TaskError.of("UnknownTask", "no handler"),
            null,
            null,
            1,
            "w1",
            null,
            null,
            done,
            null,
            done);
    assertThat(
            Wire.mapper().readTree(CeleryMeta.write(unknown, null, null)).get("result").toString())
        .isEqualTo(
            "{\"exc_type\":\"NotRegistered\",\"exc_message\":[\"no.such\"],"
                + "\"exc_module\":\"celery.exceptions\"}");

    TaskStatus received = TaskStatus.pending("t4", "x", "q", done);
    assertThat(CeleryMeta.write(received, null, null)).isNull(); // Celery never stores PENDING
  }

  @Test
  void resultRecordsOfPythonRead() {
    String failure =
        "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": \"ValueError\", \"exc_message\":"
            + " [\"bad thing\", 42], \"exc_module\": \"builtins\"}, \"traceback\": \"Traceback"
            + " ...\", \"children\": [], \"date_done\": \"2026-11-22T08:41:06.103926\", \"task_id\":"
            + " \"44a\"}";
    TaskStatus s = CeleryMeta.read("44a", failure.getBytes(StandardCharsets.UTF_8));
    assertThat(s.state()).isEqualTo(TaskState.FAILURE);
    assertThat(s.error().type()).isEqualTo("builtins.ValueError");
    assertThat(s.error().message()).isEqualTo("[\"bad thing\",42]");
    assertThat(s.error().traceback()).isEqualTo("Traceback ...");
    assertThat(s.finishedAt()).isEqualTo(Instant.parse("2026-11-22T08:41:06.103926Z"));

    String progress =
        "{\"status\": \"PROGRESS\", \"result\": {\"current\": 0, \"total\": 3}, \"traceback\":"
            + " null, \"children\": [], \"date_done\": null, \"task_id\": \"385\"}";
    TaskStatus p = CeleryMeta.read("385", progress.getBytes(StandardCharsets.UTF_8));
    assertThat(p.state()).isEqualTo(TaskState.PROGRESS);
    assertThat(p.progress().get("total").asInt()).isEqualTo(3);

    TaskStatus custom =
        CeleryMeta.read(
            "c",
            "{\"status\": \"UPLOADING\", \"result\": {\"done\": 1}}"
                .getBytes(StandardCharsets.UTF_8));
    assertThat(custom.state()).isEqualTo(TaskState.PROGRESS);
    assertThat(custom.reason()).isEqualTo("UPLOADING");
    assertThat(CeleryMeta.read("x", "not json".getBytes(StandardCharsets.UTF_8))).isNull();
  }
}
