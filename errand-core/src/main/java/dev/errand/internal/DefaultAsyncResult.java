package dev.errand.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.ResultTimeoutException;
import dev.errand.TaskError;
import dev.errand.TaskFailedException;
import dev.errand.TaskRevokedException;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.wire.Arguments;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The {@link AsyncResult} of the default client. Thread-safe. */
final class DefaultAsyncResult<R> implements AsyncResult<R> {

  private final String id;
  private final Type resultType;
  private final boolean ignoreResult;
  private final ResultStore results;
  private final Client client;

  DefaultAsyncResult(
      String id, Type resultType, boolean ignoreResult, ResultStore results, Client client) {
    this.id = id;
    this.resultType = resultType;
    this.ignoreResult = ignoreResult;
    this.results = results;
    this.client = client;
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
      throw new ResultTimeoutException(id, timeout, state());
    } catch (InterruptedException e) {
      ready.cancel(false);
      throw e;
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for task [" + id + "] failed", e.getCause());
    }
    return outcome(status);
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
  private R outcome(TaskStatus status) {
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
