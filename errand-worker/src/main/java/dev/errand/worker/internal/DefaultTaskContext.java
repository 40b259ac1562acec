package dev.errand.worker.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.SoftTimeLimitExceeded;
import dev.errand.wire.Wire;
import dev.errand.worker.RetryException;
import dev.errand.worker.TaskContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;

/** The context of one attempt. */
public final class DefaultTaskContext implements TaskContext {

  /** Progress writes closer together than this are coalesced. */
  static final Duration PROGRESS_INTERVAL = Duration.ofMillis(100);

  private final Execution execution;
  private final TaskRunner runner;
  private final Clock clock;
  private final Client client;
  private final Object progressLock = new Object();
  private JsonNode latestProgress;
  private Instant lastProgressWrite;

  DefaultTaskContext(Execution execution, TaskRunner runner, Clock clock, Client client) {
    this.execution = execution;
    this.runner = runner;
    this.clock = clock;
    this.client = client;
  }

  @Override
  public String id() {
    return execution.message.id();
  }

  @Override
  public String name() {
    return execution.message.task();
  }

  @Override
  public String queue() {
    return execution.delivery.queue();
  }

  @Override
  public int attempt() {
    return execution.message.retries() + 1;
  }

  @Override
  public Map<String, String> headers() {
    return execution.message.headers();
  }

  @Override
  public String requestId() {
    return execution.message.requestId();
  }

  @Override
  public String workerName() {
    return execution.workerName;
  }

  @Override
  public void progress(Object meta) {
    JsonNode node = Wire.mapper().valueToTree(meta);
    try {
      runner.checkStorable(node, "progress meta", execution);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("progress meta cannot be encoded: " + e, e);
    }
    record(node);
  }

  private void record(JsonNode node) {
    Instant now = clock.instant();
    synchronized (progressLock) {
      latestProgress = node;
      if (lastProgressWrite != null && now.isBefore(lastProgressWrite.plus(PROGRESS_INTERVAL))) {
        return;
      }
      lastProgressWrite = now;
    }
    runner.recordProgress(execution, node);
  }

  @Override
  public void progress(long current, long total) {
    ObjectNode meta = Wire.mapper().createObjectNode();
    meta.put("current", current);
    meta.put("total", total);
    record(meta); // two numbers: always storable, no need to check
  }

  /** The latest meta reported, written or not. */
  JsonNode latestProgress() {
    synchronized (progressLock) {
      return latestProgress;
    }
  }

  @Override
  public RetryException retry(Throwable cause, Duration countdown) {
    if (countdown != null && countdown.isNegative()) {
      throw new IllegalArgumentException("countdown must be >= 0 but was " + countdown);
    }
    throw new RetryException(id(), name(), cause, countdown);
  }

  @Override
  public boolean isCancelled() {
    return execution.isCancelled();
  }

  @Override
  public void checkCancelled() {
    if (execution.softLimitHit) {
      throw new SoftTimeLimitExceeded(
          id(), name(), "soft time limit of " + execution.options.softTimeLimit() + " exceeded");
    }
    if (execution.revoked) {
      throw new CancellationException("task " + name() + " [" + id() + "] was revoked");
    }
    if (execution.shuttingDown) {
      throw new CancellationException("worker is shutting down");
    }
  }

  @Override
  public boolean once(String key, Duration ttl) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    return runner.claimOnce("once:" + key, ttl);
  }

  @Override
  public Client client() {
    return client;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public String toString() {
    return "TaskContext{" + name() + " [" + id() + "], attempt " + attempt() + "}";
  }
}
