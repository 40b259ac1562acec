package dev.errand.redis.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Celery messages no worker can run, and what the dead letter of each must say; shared by
 * errand-redis's {@code CeleryBackendIT} and errand-cli's {@code CeleryInteropIT}. Ids and delivery
 * tags start with {@code prefix}; {@code queue} is the routing key.
 */
public final class MalformedCelery {

  private MalformedCelery() {}

  /** Twenty-four messages no worker can run, and what each must say in the dead letters. */
  public static Map<String, String> messages(String prefix, String queue) {
    String ok =
        "W1syLCAzXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkIjogbnVsbH1d";
    Map<String, String> m = new LinkedHashMap<>();
    m.put("garbage", "the envelope is not JSON");
    m.put("", "the envelope is not JSON");
    m.put("[1, 2, 3]", "not a JSON object");
    m.put(
        "{\"body\": \"" + ok + "\", \"properties\": {}}", "no 'headers' object (Celery protocol 1");
    m.put(
        envelope(prefix, queue, "m05", null, ok, "{\"id\": \"" + prefix + "-m05\"}"),
        "headers.task must be");
    m.put(
        envelope(prefix, queue, "m06", null, ok, "{\"task\": \"interop.add\"}"),
        "headers.id must be");
    m.put(
        envelope(prefix, queue, "m07", null, ok, "{\"task\": \"interop.add\", \"id\": 7}"),
        "headers.id must be");
    m.put(
        "{\"body\": \""
            + ok
            + "\", \"content-type\": \"application/json\", \"headers\": {\"task\": \"interop.add\", \"id\": \""
            + prefix
            + "-m08\"}}",
        "no 'properties' object");
    m.put(
        envelope(prefix, queue, "m09", "application/x-python-serialize", ok, null),
        "content type 'application/x-python-serialize' is refused");
    m.put(
        envelope(prefix, queue, "m10", "application/x-yaml", ok, null),
        "content type 'application/x-yaml' is refused");
    m.put(
        envelope(prefix, queue, "m11", null, "@@not base64@@", null),
        "the body is not valid base64");
    m.put(envelope(prefix, queue, "m12", null, b64("not json"), null), "the body is not JSON");
    m.put(
        envelope(prefix, queue, "m13", null, b64("[[2, 3], {}]"), null),
        "the body must be the JSON array [args, kwargs, embed]");
    m.put(
        envelope(prefix, queue, "m14", null, b64("[{\"x\": 1}, {}, null]"), null),
        "args (body[0]) must be an array");
    m.put(
        envelope(prefix, queue, "m15", null, b64("[[], [1], null]"), null),
        "kwargs (body[1]) must be an object");
    m.put(
        envelope(
            prefix,
            queue,
            "m16",
            null,
            Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, (byte) 0xfe, 0x5b}),
            null),
        "the body is not UTF-8 text");
    m.put(
        envelope(prefix, queue, "m17", null, ok, headers(prefix, "m17", "\"eta\": \"tomorrow\"")),
        "headers.eta: 'tomorrow' is not an ISO 8601 time");
    m.put(
        envelope(prefix, queue, "m18", null, ok, headers(prefix, "m18", "\"expires\": 12345")),
        "headers.expires must be an ISO 8601 string");
    m.put(
        envelope(prefix, queue, "m19", null, ok, headers(prefix, "m19", "\"retries\": -1")),
        "headers.retries must be an integer >= 0");
    m.put(
        envelope(
            prefix,
            queue,
            "m20",
            null,
            ok,
            headers(prefix, "m20", "\"timelimit\": [\"soon\", null]")),
        "the hard limit must be a positive number");
    m.put(
        envelope(
            prefix,
            queue,
            "m21",
            null,
            b64("[" + "[".repeat(150) + "]".repeat(150) + ", {}, null]"),
            null),
        "nest deeper than 100");
    m.put(
        envelope(prefix, queue, "m22", null, ok, null).replace("\"utf-8\"", "\"latin-1\""),
        "content encoding 'latin-1' is not utf-8");
    m.put(
        envelope(
            prefix, queue, "m23", null, ok, headers(prefix, "m23", "\"task\": \"no.such.Task\"")),
        "no handler for task 'no.such.Task'");
    m.put(
        envelope(prefix, queue, "m24", null, b64("[[\"two\", \"three\"], {}, null]"), null),
        "arguments do not fit");
    return m;
  }

  public static String headers(String prefix, String id, String extra) {
    return "{\"task\": \"interop.add\", \"id\": \"" + prefix + "-" + id + "\", " + extra + "}";
  }

  public static String envelope(
      String prefix, String queue, String id, String contentType, String body, String headers) {
    return "{\"body\": \""
        + body
        + "\", \"content-encoding\": \"utf-8\", \"content-type\": \""
        + (contentType == null ? "application/json" : contentType)
        + "\", \"headers\": "
        + (headers == null ? headers(prefix, id, "\"lang\": \"py\"") : headers)
        + ", \"properties\": {\"delivery_info\": {\"exchange\": \"\", \"routing_key\": \""
        + queue
        + "\"}, \"priority\": 0, \"body_encoding\": \"base64\", \"delivery_tag\": \""
        + prefix
        + "-tag-"
        + id
        + "\"}}";
  }

  public static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
