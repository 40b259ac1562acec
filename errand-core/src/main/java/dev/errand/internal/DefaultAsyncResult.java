package dev.errand.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.ClusterView;
import dev.errand.ResultTimeoutException;
import dev.errand.TaskError;
import dev.errand.TaskFailedException;
import dev.errand.TaskRevokedException;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.spi.ResultStore;
import dev.errand.wire.Arguments;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link AsyncResult} of the default client. Thread-safe. */
final class DefaultAsyncResult<R> implements AsyncResult<R> {

  private static final Logger log = LoggerFactory.getLogger(DefaultAsyncResult.class);

  /**
   * How many consumed queues a timeout message names; a big cluster's list would bury the point.
   */
  private static final int MAX_QUEUES_NAMED = 10;

  private final String id;
  private final Type resultType;
  private final boolean ignoreResult;
  private final ResultStore results;
  private final Client client;
  private final String queue;

  /**
   * @param queue the queue the task was sent to, if this handle comes from sending it; else null
   */
  DefaultAsyncResult(
      String id,
      Type resultType,
      boolean ignoreResult,
      ResultStore results,
      Client client,
      String queue) {
    this.id = id;
    this.resultType = resultType;
    this.ignoreResult = ignoreResult;
    this.results = results;
    this.client = client;
    this.queue = queue;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public TaskState state() {
    return status().state();
  }

  @Override
  public TaskStatus status() {
    return results.get(id).orElseGet(() -> TaskStatus.pending(id));
  }

  @Override
  public R get(Duration timeout) throws InterruptedException {
    if (ignoreResult) {
      throw new IllegalStateException("task [" + id + "] was sent with ignoreResult: no result");
    }
    CompletableFuture<TaskStatus> ready = results.whenReady(id);
    TaskStatus status;
    try {
      status = ready.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      ready.cancel(false);
      throw timedOut(timeout);
    } catch (InterruptedException e) {
      ready.cancel(false);
      throw e;
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for task [" + id + "] failed", e.getCause());
    }
    return outcome(status);
  }

  /**
   * The timeout, saying when no live worker consumes the task's queue: the silent reason a task
   * never runs. Looked up only here, once per timeout (one read of the worker registry), never
   * while waiting.
   */
  private ResultTimeoutException timedOut(Duration timeout) {
    TaskStatus last = status();
    // The queue it was delivered from, else the one it was sent to: both name where it waits.
    String q = last.queue() != null ? last.queue() : queue;
    if (q == null) {
      return new ResultTimeoutException(id, timeout, last.state());
    }
    List<WorkerInfo> live;
    try {
      live = client.backend().workers().live();
    } catch (RuntimeException e) {
      // The caller asked about time; a backend that fails this read must not change the answer.
      log.debug(
          "could not read the live workers after waiting for task [{}]: {}", id, e.toString());
      return new ResultTimeoutException(id, timeout, last.state());
    }
    if (ClusterView.consumers(live).containsKey(q)) {
      return new ResultTimeoutException(id, timeout, last.state());
    }
    return new ResultTimeoutException(id, timeout, last.state(), q, whatLiveWorkersDo(live, q));
  }

  private static String whatLiveWorkersDo(List<WorkerInfo> live, String queue) {
    if (live.isEmpty()) {
      return "no worker is live";
    }
    List<WorkerInfo> stalled =
        live.stream().filter(w -> !w.consuming() && w.queues().contains(queue)).toList();
    if (!stalled.isEmpty()) {
      WorkerInfo w = stalled.get(0);
      return "worker "
          + w.name()
          + (stalled.size() > 1
              ? " and " + (stalled.size() - 1) + " more list it but are"
              : " lists it but is")
          + " not consuming"
          + (w.problem() == null ? "" : ": " + w.problem());
    }
    TreeSet<String> consumed = new TreeSet<>(ClusterView.NATURAL_ORDER);
    consumed.addAll(ClusterView.consumers(live).keySet());
    if (consumed.isEmpty()) {
      return "no live worker is consuming";
    }
    List<String> shown = consumed.stream().limit(MAX_QUEUES_NAMED).toList();
    return "live workers consume "
        + shown
        + (consumed.size() > shown.size()
            ? " and " + (consumed.size() - shown.size()) + " more"
            : "");
  }

  @Override
  public CompletableFuture<R> toCompletableFuture() {
    if (ignoreResult) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("task [" + id + "] was sent with ignoreResult: no result"));
    }
    CompletableFuture<TaskStatus> ready = results.whenReady(id);
    CompletableFuture<R> mapped = ready.thenApply(this::outcome);
    // Cancelling the caller's future releases the backend's waiter.
    mapped.whenComplete(
        (r, e) -> {
          if (mapped.isCancelled()) {
            ready.cancel(false);
          }
        });
    return mapped;
  }

  @SuppressWarnings("unchecked")
  R outcome(TaskStatus status) {
    return switch (status.state()) {
      case SUCCESS -> (R) Arguments.decodeResult(status.result(), resultType, id);
      case FAILURE ->
          throw new TaskFailedException(
              id,
              status.name(),
              status.error() != null
                  ? status.error()
                  : TaskError.of("dev.errand.UnknownError", "no error was recorded"));
      case REVOKED ->
          throw new TaskRevokedException(
              id, status.name(), status.reason() == null ? "revoked" : status.reason());
      default -> throw new IllegalStateException("task [" + id + "] is not ready: " + status);
    };
  }

  @Override
  public Optional<JsonNode> progress() {
    return Optional.ofNullable(status().progress());
  }

  @Override
  public boolean revoke() {
    return client.revoke(id);
  }

  @Override
  public String toString() {
    return "AsyncResult[" + id + "]";
  }
}
