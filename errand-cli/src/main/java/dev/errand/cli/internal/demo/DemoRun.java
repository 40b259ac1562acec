package dev.errand.cli.internal.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.NewMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The demo's workload: what it sends, and what has become of it. */
final class DemoRun {

  static final int EMAILS = 40;
  static final int EXPORT_ROWS = 30_000;
  static final int LOW_THUMBNAILS = 30;
  static final int HIGH_THUMBNAILS = 10;
  static final String POISON_ID = "poison-" + Long.toHexString(System.nanoTime());

  final Map<String, String> kindById = new LinkedHashMap<>();
  final List<AsyncResult<String>> low = new ArrayList<>();
  final List<AsyncResult<String>> high = new ArrayList<>();
  AsyncResult<Map<String, Object>> export;

  /** Sends the whole mix. */
  void send(Client client, Backend backend) {
    for (int i = 1; i <= EMAILS; i++) {
      track(
          client.enqueue(
              DemoApp.SEND_EMAIL,
              new DemoApp.Email("user" + i + "@example.com", "Your receipt #" + i)),
          "email");
    }
    export = client.enqueue(DemoApp.EXPORT_CSV, new DemoApp.Export("orders-2026-11", EXPORT_ROWS));
    track(export, "export");
    track(client.enqueue(DemoApp.SLOW_REPORT, new DemoApp.Report("quarterly-sales", 6)), "report");
    // The burst: the low-priority flood is sent first, the urgent ones after it.
    for (int i = 1; i <= LOW_THUMBNAILS; i++) {
      low.add(
          client.enqueue(
              DemoApp.THUMBNAIL,
              new DemoApp.Thumbnail("photo-" + i + ".png", 1),
              TaskOptions.builder().priority(1).build()));
    }
    for (int i = 1; i <= HIGH_THUMBNAILS; i++) {
      high.add(
          client.enqueue(
              DemoApp.THUMBNAIL,
              new DemoApp.Thumbnail("avatar-" + i + ".png", 9),
              TaskOptions.builder().priority(9).build()));
    }
    low.forEach(r -> track(r, "thumbnail"));
    high.forEach(r -> track(r, "thumbnail"));
    // A message no worker can read, as a buggy or foreign producer might send.
    backend
        .broker()
        .enqueue(
            List.of(
                new NewMessage(
                    POISON_ID,
                    "default",
                    5,
                    "{\"v\":1,\"id\":\"oops\",\"task\":".getBytes(StandardCharsets.UTF_8),
                    null,
                    null,
                    null)));
    kindById.put(POISON_ID, "poison");
  }

  private void track(AsyncResult<?> r, String kind) {
    kindById.put(r.id(), kind);
  }

  /** Counts of the tracked tasks by state. */
  Map<TaskState, Integer> counts(Backend backend) {
    Map<TaskState, Integer> counts = new EnumMap<>(TaskState.class);
    for (String id : kindById.keySet()) {
      TaskState s = backend.results().get(id).map(TaskStatus::state).orElse(TaskState.PENDING);
      counts.merge(s, 1, Integer::sum);
    }
    return counts;
  }

  /** Whether every tracked task is finished. */
  boolean done(Map<TaskState, Integer> counts) {
    int ready = 0;
    for (var e : counts.entrySet()) {
      if (e.getKey().isReady()) {
        ready += e.getValue();
      }
    }
    return ready == kindById.size();
  }

  /** The export's progress from 0 to 1. */
  double exportProgress() {
    TaskStatus s = export.status();
    if (s.state() == TaskState.SUCCESS) {
      return 1;
    }
    JsonNode p = s.progress();
    if (p == null || !p.has("total") || p.get("total").asLong() == 0) {
      return 0;
    }
    return Math.min(1, p.get("current").asDouble() / p.get("total").asDouble());
  }
}
