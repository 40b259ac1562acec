package dev.errand.redis.internal;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Results on a Celery fleet: every status is stored twice, in Errand's result store (searchable,
 * with arguments, times and retries, for the dashboard and {@code errand inspect}) and as Celery's
 * record {@code celery-task-meta-<id>}, published on its channel, which Python's {@code
 * AsyncResult.get()} reads. Reads take Celery's record for the state (a Python worker writes only
 * that) and Errand's for the rest. Waits listen on Celery's channel. Revocations also go to Celery
 * workers, as a {@code revoke} broadcast on Celery's remote-control channel. Thread-safe.
 */
public final class CeleryResults implements ResultStore {

  private final Redis redis;
  private final ResultStore errand;
  private final Notifier notifier;
  private final CeleryBroker broker;
  private final CeleryUrl url;
  private final java.util.concurrent.atomic.AtomicBoolean listening =
      new java.util.concurrent.atomic.AtomicBoolean();

  public CeleryResults(
      Redis redis, Keys keys, ResultStore errand, CeleryBroker broker, CeleryUrl url) {
    this.redis = redis;
    this.errand = errand;
    this.broker = broker;
    this.url = url;
    this.notifier =
        new Notifier(redis, keys, new Notifier.ResultChannels(CeleryMeta.PREFIX, CeleryMeta::read));
    notifier.onReconnect(
        id -> get(id).filter(s -> s.state().isReady()).ifPresent(s -> notifier.complete(id, s)));
  }

  @Override
  public void put(TaskStatus status, Duration ttl) {
    putAll(List.of(status), ttl);
  }

  @Override
  public void putAll(List<TaskStatus> statuses, Duration ttl) {
    errand.putAll(statuses, ttl);
    List<byte[]> args = new ArrayList<>();
    args.add(CeleryBroker.bytes(broker.dcPrefix()));
    args.add(new byte[0]);
    args.add(new byte[0]);
    args.add(CeleryBroker.bytes("-"));
    args.add(new byte[0]);
    args.add(new byte[0]);
    List<byte[]> metas = new ArrayList<>();
    int n = 0;
    for (TaskStatus s : statuses) {
      byte[] meta =
          s.state() == TaskState.STARTED && !url.trackStarted()
              ? null
              : CeleryMeta.write(s, null, null);
      if (meta != null) {
        metas.add(CeleryBroker.bytes(CeleryMeta.key(s.id())));
        metas.add(meta);
        metas.add(CeleryBroker.bytes(Long.toString(url.resultExpires().toSeconds())));
        n++;
      }
    }
    if (n == 0) {
      return;
    }
    args.add(CeleryBroker.bytes(Integer.toString(n)));
    args.addAll(metas);
    args.add(CeleryBroker.bytes("0"));
    redis.await(
        Script.CELERY_SETTLE.run(
            redis.async(), ScriptOutputType.MULTI, broker.fixedKeys(), args.toArray(byte[][]::new)),
        "store results");
  }

  @Override
  public Optional<TaskStatus> get(String taskId) {
    Optional<TaskStatus> own = errand.get(taskId);
    if (own.isPresent() && own.get().state().isReady()) {
      return own;
    }
    byte[] meta = redis.await(redis.async().get(CeleryMeta.key(taskId)), "read result");
    TaskStatus celery = meta == null ? null : CeleryMeta.read(taskId, meta);
    return Optional.ofNullable(merge(own.orElse(null), celery));
  }

  @Override
  public Map<String, TaskStatus> getAll(Collection<String> taskIds) {
    Map<String, TaskStatus> own = errand.getAll(taskIds);
    List<String> look = new ArrayList<>();
    for (String id : taskIds) {
      TaskStatus s = own.get(id);
      if (s == null || !s.state().isReady()) {
        look.add(id);
      }
    }
    if (look.isEmpty()) {
      return own;
    }
    Map<String, TaskStatus> out = new LinkedHashMap<>(own);
    for (int from = 0; from < look.size(); from += 500) {
      List<String> part = look.subList(from, Math.min(look.size(), from + 500));
      List<KeyValue<String, byte[]>> values =
          redis.await(
              redis.async().mget(part.stream().map(CeleryMeta::key).toArray(String[]::new)),
              "read results");
      for (int i = 0; i < part.size(); i++) {
        KeyValue<String, byte[]> kv = values.get(i);
        TaskStatus celery = kv.hasValue() ? CeleryMeta.read(part.get(i), kv.getValue()) : null;
        TaskStatus merged = merge(own.get(part.get(i)), celery);
        if (merged != null) {
          out.put(part.get(i), merged);
        }
      }
    }
    return out;
  }

  /**
   * Errand's record with the state, result, error and progress of Celery's, which is the newer when
   * it exists (a Python worker writes only Celery's).
   */
  static TaskStatus merge(TaskStatus own, TaskStatus celery) {
    if (celery == null) {
      return own;
    }
    if (own == null) {
      return celery;
    }
    if (own.state().isReady()
        || (!celery.state().isReady()
            && own.state() != TaskState.PENDING
            && own.state() != TaskState.RECEIVED)) {
      return own; // run by Java: both were written together, and Errand's says more
    }
    return new TaskStatus(
        own.id(),
        own.name() != null ? own.name() : celery.name(),
        celery.state(),
        own.queue() != null ? own.queue() : celery.queue(),
        celery.result(),
        celery.error(),
        celery.progress(),
        celery.reason(),
        Math.max(own.attempt(), celery.attempt()),
        celery.worker() != null ? celery.worker() : own.worker(),
        own.sentAt(),
        own.startedAt(),
        celery.finishedAt(),
        own.retryAt(),
        celery.updatedAt() != null ? celery.updatedAt() : own.updatedAt(),
        own.parentId() != null ? own.parentId() : celery.parentId(),
        own.args(),
        own.retries());
  }

  @Override
  public TaskPage search(TaskQuery query) {
    TaskPage page = errand.search(query);
    List<String> unfinished = new ArrayList<>();
    for (TaskStatus s : page.tasks()) {
      if (!s.state().isReady()) {
        unfinished.add(s.id());
      }
    }
    if (unfinished.isEmpty()) {
      return page;
    }
    // Sent from Java, run by Python: Errand's record stays PENDING, Celery's tells the state.
    Map<String, TaskStatus> now = getAll(unfinished);
    List<TaskStatus> tasks = new ArrayList<>(page.tasks().size());
    for (TaskStatus s : page.tasks()) {
      tasks.add(now.getOrDefault(s.id(), s));
    }
    return new TaskPage(tasks, page.next());
  }

  @Override
  public long count(TaskQuery query) {
    return errand.count(query);
  }

  @Override
  public long[] countByTime(TaskQuery query, TimeBuckets buckets) {
    return errand.countByTime(query, buckets);
  }

  @Override
  public CompletableFuture<TaskStatus> whenReady(String taskId) {
    return notifier.whenReady(taskId, this::get);
  }

  @Override
  public void revoke(String taskId, Duration ttl) {
    errand.revoke(taskId, ttl);
    broadcastRevoke(List.of(taskId));
  }

  @Override
  public void revokeAll(Collection<String> taskIds, Duration ttl) {
    errand.revokeAll(taskIds, ttl);
    broadcastRevoke(List.copyOf(taskIds));
  }

  /**
   * Tells Celery workers, as {@code AsyncResult.revoke()} does: a {@code revoke} on the {@code
   * celery.pidbox} fan-out. Celery keeps revocations in worker memory only.
   */
  private void broadcastRevoke(List<String> ids) {
    if (ids.isEmpty()) {
      return;
    }
    var mapper = dev.errand.wire.Wire.mapper();
    var body = mapper.createObjectNode();
    body.put("method", "revoke");
    var arguments = body.putObject("arguments");
    if (ids.size() == 1) {
      arguments.put("task_id", ids.get(0));
    } else {
      ids.forEach(arguments.putArray("task_id")::add);
    }
    arguments.put("terminate", false);
    arguments.put("signal", "SIGTERM");
    body.putNull("destination");
    body.putNull("pattern");
    body.putNull("matcher");
    var env = mapper.createObjectNode();
    env.put(
        "body",
        Base64.getEncoder().encodeToString(body.toString().getBytes(StandardCharsets.UTF_8)));
    env.put("content-encoding", "utf-8");
    env.put("content-type", "application/json");
    var headers = env.putObject("headers");
    headers.put("clock", 1);
    headers.put("expires", System.currentTimeMillis() / 1000.0 + 10);
    var props = env.putObject("properties");
    props.put("delivery_mode", 2);
    var info = props.putObject("delivery_info");
    info.put("exchange", "celery.pidbox");
    info.put("routing_key", "");
    props.put("priority", 0);
    props.put("body_encoding", "base64");
    props.put("delivery_tag", UUID.randomUUID().toString());
    redis.await(
        redis.async().publish(pidboxChannel(), env.toString().getBytes(StandardCharsets.UTF_8)),
        "revoke broadcast");
  }

  @Override
  public Set<String> revoked(Collection<String> taskIds) {
    return errand.revoked(taskIds);
  }

  @Override
  public boolean claimOnce(String key, Duration ttl) {
    return errand.claimOnce(key, ttl);
  }

  /**
   * Listens for Celery's remote-control {@code revoke} broadcasts ({@code AsyncResult.revoke()} in
   * Python, {@code celery control revoke}), so that Errand workers skip what Python revoked as
   * Celery workers do; called once a worker claims. Idempotent.
   */
  public void listenForRevokes() {
    if (!listening.compareAndSet(false, true)) {
      return;
    }
    notifier.listen(pidboxChannel(), this::onControl);
  }

  private void onControl(byte[] message) {
    List<String> ids = new ArrayList<>();
    try {
      var env = dev.errand.wire.Wire.mapper().readTree(message);
      byte[] body = Base64.getDecoder().decode(env.path("body").asText(""));
      var control = dev.errand.wire.Wire.mapper().readTree(body);
      if (!"revoke".equals(control.path("method").asText())) {
        return;
      }
      var taskId = control.path("arguments").path("task_id");
      if (taskId.isTextual()) {
        ids.add(taskId.asText());
      } else if (taskId.isArray()) {
        taskId.forEach(t -> ids.add(t.asText()));
      }
    } catch (java.io.IOException | RuntimeException e) {
      return; // not a message of Celery's remote control: nothing to do
    }
    if (!ids.isEmpty()) {
      // off Lettuce's event loop: storing the revocation is a command on the same client
      CompletableFuture.runAsync(() -> errand.revokeAll(ids, dev.errand.Client.DEFAULT_REVOKE_TTL));
    }
  }

  private String pidboxChannel() {
    return "/" + redis.url().uri().getDatabase() + ".celery.pidbox";
  }

  /** Stops listening. */
  public void close() {
    notifier.close();
  }
}
