package dev.errand.dashboard.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.ClusterView;
import dev.errand.DeadLetter;
import dev.errand.DeadLetters;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.scheduler.ScheduleEntry;
import dev.errand.scheduler.Schedules;
import dev.errand.spi.Backend;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import dev.errand.wire.Wire;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The JSON API under {@code /api}: what the pages show and scripts use. Every answer is read from
 * the backend at request time, and masked on its way out by the server's JSON mapper ({@link
 * MaskingJsonMapper}), so no endpoint masks by itself.
 */
final class Api {

  private final Backend backend;
  private final Client client;
  private final DeadLetters deadLetters;
  private final Schedules schedules;
  private final Clock clock;
  private final boolean readOnly;

  Api(Backend backend, Clock clock, boolean readOnly) {
    this.backend = backend;
    this.client = Client.builder(backend).clock(clock).build();
    this.deadLetters = client.deadLetters();
    this.schedules = Schedules.create(client, clock);
    this.clock = clock;
    this.readOnly = readOnly;
  }

  void register(RoutesConfig r) {
    r.get("/api/overview", this::overview);
    r.get("/api/queues", ctx -> ctx.json(queues(ClusterView.read(backend, clock))));
    r.post("/api/queues/{queue}/purge", this::purge);
    r.post("/api/queues/{queue}/pause", ctx -> pause(ctx, true));
    r.post("/api/queues/{queue}/resume", ctx -> pause(ctx, false));
    r.get("/api/limits", ctx -> ctx.json(limits()));
    r.get("/api/workers", ctx -> ctx.json(workers()));
    r.get("/api/tasks", this::tasks);
    r.get("/api/tasks/{id}", this::task);
    r.post("/api/tasks/{id}/revoke", this::revoke);
    new WorkflowApi(client).register(r);
    r.get("/api/dead-letters", this::deadLetters);
    r.post(
        "/api/dead-letters/redrive",
        ctx -> all(ctx, deadLetters.redriveAll(ctx.queryParam("queue")), "redriven"));
    r.post(
        "/api/dead-letters/discard",
        ctx -> all(ctx, deadLetters.discardAll(ctx.queryParam("queue")), "discarded"));
    r.post(
        "/api/dead-letters/{id}/redrive",
        ctx -> one(ctx, deadLetters.redrive(ctx.pathParam("id")), "redriven"));
    r.post(
        "/api/dead-letters/{id}/discard",
        ctx -> one(ctx, deadLetters.discard(ctx.pathParam("id")), "discarded"));
    r.get("/api/schedules", ctx -> ctx.json(scheduleList()));
    r.post("/api/schedules", this::createSchedule);
    r.post("/api/schedules/{name}", this::editSchedule);
    r.post(
        "/api/schedules/{name}/pause",
        ctx -> ctx.json(schedules.pause(ctx.pathParam("name")).toJson()));
    r.post(
        "/api/schedules/{name}/resume",
        ctx -> ctx.json(schedules.resume(ctx.pathParam("name")).toJson()));
    r.post(
        "/api/schedules/{name}/run",
        ctx -> ctx.json(Map.of("taskId", schedules.runNow(ctx.pathParam("name")).id())));
    r.post(
        "/api/schedules/{name}/delete",
        ctx -> one(ctx, schedules.delete(ctx.pathParam("name")), "deleted"));
  }

  private void overview(Context ctx) {
    String range = ctx.queryParamAsClass("range", String.class).getOrDefault("hour");
    Duration span;
    Duration step;
    switch (range) {
      case "hour" -> {
        span = Duration.ofHours(1);
        step = Duration.ofMinutes(1);
      }
      case "day" -> {
        span = Duration.ofDays(1);
        step = Duration.ofMinutes(15);
      }
      default ->
          throw new IllegalArgumentException("range must be hour or day but was '" + range + "'");
    }
    ClusterView view = ClusterView.read(backend, clock);
    Instant now = view.readAt();
    ObjectNode o = Wire.mapper().createObjectNode();
    o.put("now", now.toString());
    o.put("readOnly", readOnly);
    o.set("queues", Wire.mapper().valueToTree(queues(view)));
    o.set("totals", Wire.mapper().valueToTree(view.totals()));
    o.put("workers", view.totals().workers());
    o.put("workersNotConsuming", view.totals().workersNotConsuming());
    ArrayNode running = o.putArray("running");
    for (WorkerInfo w : view.workers()) {
      for (WorkerInfo.RunningTask t : w.running()) {
        running
            .addObject()
            .put("taskId", t.id())
            .put("name", t.name())
            .put("worker", w.name())
            .put("startedAt", String.valueOf(t.startedAt()));
      }
    }
    o.set(
        "latestFailures",
        tree(
            backend
                .results()
                .search(TaskQuery.builder().state(TaskState.FAILURE).limit(10).build())
                .tasks()));
    // One count per figure for the whole chart, not one per bucket.
    TimeBuckets buckets = TimeBuckets.ending(now, span, step);
    long[] succeeded =
        backend
            .results()
            .countByTime(TaskQuery.builder().state(TaskState.SUCCESS).build(), buckets);
    long[] failed =
        backend
            .results()
            .countByTime(TaskQuery.builder().state(TaskState.FAILURE).build(), buckets);
    ArrayNode series = o.putArray("throughput");
    for (int i = 0; i < buckets.count(); i++) {
      series
          .addObject()
          .put("at", buckets.bucketStart(i).toString())
          .put("succeeded", succeeded[i])
          .put("failed", failed[i]);
    }
    ctx.json(o);
  }

  /** The queues of the operator's view ({@link ClusterView}), as the queues page shows them. */
  private static List<Map<String, Object>> queues(ClusterView view) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ClusterView.Queue q : view.queues()) {
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("queue", q.name());
      m.put("ready", q.ready());
      m.put("leased", q.leased());
      m.put("delayed", q.delayed());
      m.put("dead", q.dead());
      m.put("readyByPriority", q.readyByPriority());
      m.put("oldestReadyAt", q.oldestReadyAt());
      m.put("lagSeconds", q.lag().toSeconds());
      m.put("consumers", q.consumers());
      m.put("unconsumed", q.unconsumed());
      m.put("paused", q.paused());
      m.put("limited", q.limited());
      m.put("shards", q.shards());
      out.add(m);
    }
    return out;
  }

  private void purge(Context ctx) {
    String queue = ctx.pathParam("queue");
    if (!queue.equals(ctx.queryParam("confirm"))) {
      throw new IllegalArgumentException("purging needs confirm=" + queue);
    }
    ctx.json(Map.of("queue", queue, "purged", backend.broker().purge(queue)));
  }

  /** Limit keys shown per queue, busiest first. */
  static final int LIMITS_PER_QUEUE = 50;

  /** The flow-control keys in use in every queue: limit, running, waiting, next start. */
  private List<Map<String, Object>> limits() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String q : backend.broker().queues()) {
      for (dev.errand.spi.LimitStats s : backend.broker().limits(q, LIMITS_PER_QUEUE)) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("queue", q);
        m.put("key", s.limit().key());
        m.put("rate", s.limit().rateText());
        m.put("burst", s.limit().burst());
        m.put("concurrency", s.limit().concurrency());
        m.put("running", s.running());
        m.put("waiting", s.waiting());
        m.put("nextStartAt", s.nextStartAt());
        out.add(m);
      }
    }
    return out;
  }

  /** Pauses or resumes a queue: workers stop (or start again) claiming from it at once. */
  private void pause(Context ctx, boolean pause) {
    String queue = TaskOptions.validQueue(ctx.pathParam("queue"));
    if (pause) {
      backend.broker().pause(queue);
    } else {
      backend.broker().resume(queue);
    }
    ctx.json(Map.of("queue", queue, "paused", pause));
  }

  private List<Map<String, Object>> workers() {
    Instant now = clock.instant();
    List<Map<String, Object>> out = new ArrayList<>();
    for (WorkerInfo w : backend.workers().live()) {
      Map<String, Object> m = Wire.mapper().convertValue(w, Map.class);
      m.put("heartbeatAgeSeconds", Duration.between(w.heartbeatAt(), now).toSeconds());
      m.put("healthy", w.consuming());
      out.add(m);
    }
    return out;
  }

  private void tasks(Context ctx) {
    String id = ctx.queryParam("id");
    if (id != null && !id.isBlank()) {
      List<TaskStatus> one = stored(id.strip()).map(List::of).orElse(List.of());
      ctx.json(Map.of("tasks", tree(one)));
      return;
    }
    TaskQuery.Builder q =
        TaskQuery.builder()
            .name(blankToNull(ctx.queryParam("name")))
            .queue(blankToNull(ctx.queryParam("queue")))
            .parentId(blankToNull(ctx.queryParam("parent")))
            .after(blankToNull(ctx.queryParam("after")));
    String state = blankToNull(ctx.queryParam("state"));
    if (state != null) {
      try {
        q.state(TaskState.valueOf(state.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("state '" + state + "' is not a task state");
      }
    }
    q.from(instant(ctx, "from")).to(instant(ctx, "to"));
    String limit = ctx.queryParam("limit");
    if (limit != null) {
      q.limit(parseInt("limit", limit));
    }
    TaskPage page = backend.results().search(q.build());
    ObjectNode o = Wire.mapper().createObjectNode();
    o.set("tasks", tree(page.tasks()));
    o.put("next", page.next());
    ctx.json(o);
  }

  /**
   * The most events read for one task: the default capacity of the whole log, since a long export
   * reports progress hundreds of times and the timeline skips those.
   */
  private static final int MAX_TASK_EVENTS = 10_000;

  private void task(Context ctx) {
    String id = ctx.pathParam("id");
    // One read of the log serves both a queued task's status and the timeline.
    List<Event> events = backend.events().forTask(id, MAX_TASK_EVENTS);
    TaskStatus s =
        backend
            .results()
            .get(id)
            .or(() -> pending(id, events))
            .orElseThrow(() -> new NoSuchElementException("no task with id " + id));
    ObjectNode o = Wire.mapper().createObjectNode();
    o.set("task", Wire.mapper().valueToTree(s));
    o.set("timeline", timeline(s, events));
    o.set(
        "children",
        tree(
            backend.results().search(TaskQuery.builder().parentId(id).limit(100).build()).tasks()));
    ctx.json(o);
  }

  /**
   * The task's story, oldest first: each event the log still keeps (sent, received, started,
   * retried with its error, the outcome, dead-lettered), and from the status whatever the log has
   * dropped (it keeps the newest events only): the send, earlier retries and the outcome.
   */
  private static ArrayNode timeline(TaskStatus s, List<Event> events) {
    List<ObjectNode> steps = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Event e : events) {
      if (e.type() == EventType.TASK_PROGRESS) {
        continue; // the progress bar shows the latest; hundreds of steps would drown the rest
      }
      String what = e.type().wireName().substring("task-".length());
      seen.add(what);
      ObjectNode step = step(e.time(), what, "events");
      if (e.worker() != null) {
        step.put("worker", e.worker());
      }
      if (e.data() != null) {
        for (String field : List.of("error", "eta", "reason", "runtimeMs")) {
          if (e.data().hasNonNull(field)) {
            step.set(field, e.data().get(field));
          }
        }
      }
      steps.add(step);
    }
    Instant firstEvent = events.isEmpty() ? null : events.get(0).time();
    if (s.sentAt() != null && !seen.contains("sent")) {
      steps.add(step(s.sentAt(), "sent", "status"));
    }
    if (s.retries() != null) {
      for (TaskStatus.Retry r : s.retries()) {
        if (firstEvent == null || r.at().isBefore(firstEvent)) {
          ObjectNode step = step(r.at(), "retried", "status").put("attempt", r.attempt());
          step.set("error", Wire.mapper().valueToTree(r.error()));
          steps.add(step);
        }
      }
    }
    if (s.startedAt() != null && !seen.contains("started")) {
      steps.add(
          step(s.startedAt(), "started", "status")
              .put("attempt", s.attempt())
              .put("worker", s.worker()));
    }
    String outcome = s.state().name().toLowerCase(Locale.ROOT);
    String outcomeEvent =
        switch (s.state()) {
          case SUCCESS -> "succeeded";
          case FAILURE -> "failed";
          case REVOKED -> "revoked";
          default -> null;
        };
    if (s.finishedAt() != null && (outcomeEvent == null || !seen.contains(outcomeEvent))) {
      ObjectNode step =
          step(s.finishedAt(), outcomeEvent == null ? outcome : outcomeEvent, "status");
      if (s.worker() != null) {
        step.put("worker", s.worker());
      }
      steps.add(step);
    }
    // Stable: events of the same instant keep the log's order.
    steps.sort(java.util.Comparator.comparing(o -> Instant.parse(o.get("at").asText())));
    ArrayNode t = Wire.mapper().createArrayNode();
    t.addAll(steps);
    return t;
  }

  private static ObjectNode step(Instant at, String what, String source) {
    return Wire.mapper()
        .createObjectNode()
        .put("at", at.toString())
        .put("what", what)
        .put("source", source);
  }

  /**
   * The task's status, or for a task still queued (no worker has written a status yet) a PENDING
   * one told from its {@code task-sent} event, so it can be found and revoked.
   */
  private java.util.Optional<TaskStatus> stored(String id) {
    return backend
        .results()
        .get(id)
        .or(() -> pending(id, backend.events().forTask(id, MAX_TASK_EVENTS)));
  }

  /** A PENDING status told from the task's {@code task-sent} event, if the log still has it. */
  private static java.util.Optional<TaskStatus> pending(String id, List<Event> events) {
    return events.stream()
        .filter(e -> e.type() == EventType.TASK_SENT)
        .findFirst()
        .map(
            e ->
                new TaskStatus(
                    id,
                    e.taskName(),
                    TaskState.PENDING,
                    e.queue(),
                    null,
                    null,
                    null,
                    null,
                    0,
                    null,
                    e.time(),
                    null,
                    null,
                    null,
                    e.time()));
  }

  private void revoke(Context ctx) {
    String id = ctx.pathParam("id");
    // Store the queued task's name and queue first, so its REVOKED status shows them.
    if (backend.results().get(id).isEmpty()) {
      pending(id, backend.events().forTask(id, MAX_TASK_EVENTS))
          .ifPresent(p -> backend.results().put(p, Client.DEFAULT_REVOKE_TTL));
    }
    ctx.json(Map.of("id", id, "revoked", client.revoke(id)));
  }

  private void deadLetters(Context ctx) {
    String queue = blankToNull(ctx.queryParam("queue"));
    int offset =
        ctx.queryParam("offset") == null ? 0 : parseInt("offset", ctx.queryParam("offset"));
    int limit = ctx.queryParam("limit") == null ? 50 : parseInt("limit", ctx.queryParam("limit"));
    ArrayNode list = Wire.mapper().createArrayNode();
    for (DeadLetter d : deadLetters.list(queue, offset, limit)) {
      list.add(Wire.mapper().<JsonNode>valueToTree(d));
    }
    ObjectNode o = Wire.mapper().createObjectNode();
    o.set("deadLetters", list);
    o.put("total", deadLetters.count(queue));
    ctx.json(o);
  }

  private List<JsonNode> scheduleList() {
    return schedules.list().stream().map(e -> (JsonNode) e.toJson()).toList();
  }

  private void createSchedule(Context ctx) {
    JsonNode body = json(ctx);
    ScheduleEntry e = schedules.add(ScheduleJson.read(body, null));
    ctx.status(201).json(e.toJson());
  }

  private void editSchedule(Context ctx) {
    String name = ctx.pathParam("name");
    JsonNode body = json(ctx);
    ScheduleEntry current =
        schedules
            .get(name)
            .orElseThrow(() -> new NoSuchElementException("no schedule named '" + name + "'"));
    ScheduleEntry e =
        schedules.edit(name, b -> ScheduleJson.apply(body, b, current.schedule().zone()));
    ctx.json(e.toJson());
  }

  private static ArrayNode tree(List<TaskStatus> statuses) {
    return Wire.mapper().valueToTree(statuses);
  }

  private static void one(Context ctx, boolean done, String what) {
    if (!done) {
      throw new NoSuchElementException("nothing to do: not found");
    }
    ctx.json(Map.of(what, 1));
  }

  private static void all(Context ctx, int n, String what) {
    ctx.json(Map.of(what, n));
  }

  private static JsonNode json(Context ctx) {
    try {
      return Wire.mapper().readTree(ctx.body());
    } catch (Exception e) {
      throw new IllegalArgumentException("the body is not valid JSON");
    }
  }

  private static Instant instant(Context ctx, String param) {
    String v = blankToNull(ctx.queryParam(param));
    if (v == null) {
      return null;
    }
    try {
      return Instant.parse(v);
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(param + " '" + v + "' is not an ISO-8601 instant");
    }
  }

  private static int parseInt(String name, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number but was '" + v + "'");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
