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

/** The context of one attempt, handed to its handler. Thread-safe. */
public final class DefaultTaskContext implements TaskContext {

  /** Progress writes closer together than this are coalesced. */
  static final Duration PROGRESS_INTERVAL = Duration.ofMillis(100);

  private final Attempt attempt;
  private final TaskRunner runner;
  private final Clock clock;
  private final Client client;
  private final Object progressLock = new Object();
  private JsonNode latestProgress;
  private Instant lastProgressWrite;

  DefaultTaskContext(Attempt attempt, TaskRunner runner, Clock clock, Client client) {
    this.attempt = attempt;
    this.runner = runner;
    this.clock = clock;
    this.client = client;
  }

  @Override
  public String id() {
    return attempt.message.id();
  }

  @Override
  public String name() {
    return attempt.message.task();
  }

  @Override
  public String queue() {
    return attempt.delivery.queue();
  }

  @Override
  public int attempt() {
    return attempt.message.retries() + 1;
  }

  @Override
  public Map<String, String> headers() {
    return attempt.message.headers();
  }

  @Override
  public String requestId() {
    return attempt.message.requestId();
  }

  @Override
  public String workerName() {
    return attempt.workerName;
  }

  @Override
  public void progress(Object meta) {
    JsonNode node = Wire.mapper().valueToTree(meta);
    try {
      runner.checkStorable(node, "progress meta", attempt);
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
    runner.recordProgress(attempt, node);
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
    return attempt.isCancelled();
  }

  @Override
  public void checkCancelled() {
    if (attempt.cancelled(Attempt.Cancellation.SOFT_LIMIT)) {
      throw new SoftTimeLimitExceeded(
          id(), name(), "soft time limit of " + attempt.options.softTimeLimit() + " exceeded");
    }
    if (attempt.cancelled(Attempt.Cancellation.REVOKED)) {
      throw new CancellationException("task " + name() + " [" + id() + "] was revoked");
    }
    if (attempt.cancelled(Attempt.Cancellation.SHUTDOWN)) {
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
