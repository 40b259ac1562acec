package dev.errand.internal;

import dev.errand.AsyncResult;
import dev.errand.ResultTimeoutException;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.workflow.GroupResult;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link GroupResult} of the default client. Reads every member's status with {@link
 * ResultStore#getOutcomes} (batched by the backend), and waits by notification on one member at a
 * time: the first not finished, then reads the rest again in one batch. Thread-safe.
 */
final class DefaultGroupResult<R> implements GroupResult<R> {

  private final String id;
  private final List<String> ids;
  private final List<Type> types;
  private final ResultStore results;
  private final DefaultClient client;

  DefaultGroupResult(
      String id, List<String> ids, List<Type> types, ResultStore results, DefaultClient client) {
    this.id = id;
    this.ids = List.copyOf(ids);
    this.types = List.copyOf(types);
    this.results = results;
    this.client = client;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public List<String> ids() {
    return ids;
  }

  @Override
  public List<AsyncResult<R>> results() {
    List<AsyncResult<R>> out = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      out.add(new DefaultAsyncResult<>(ids.get(i), types.get(i), false, results, client, null));
    }
    return Collections.unmodifiableList(out);
  }

  @Override
  public int completed() {
    return count(TaskState.SUCCESS);
  }

  @Override
  public int failed() {
    Map<String, TaskStatus> all = results.getOutcomes(ids);
    int n = 0;
    for (TaskStatus s : all.values()) {
      if (s.state() == TaskState.FAILURE || s.state() == TaskState.REVOKED) {
        n++;
      }
    }
    return n;
  }

  private int count(TaskState state) {
    int n = 0;
    for (TaskStatus s : results.getOutcomes(ids).values()) {
      if (s.state() == state) {
        n++;
      }
    }
    return n;
  }

  @Override
  public boolean ready() {
    return firstNotReady(results.getOutcomes(ids)) < 0;
  }

  private int firstNotReady(Map<String, TaskStatus> all) {
    for (int i = 0; i < ids.size(); i++) {
      TaskStatus s = all.get(ids.get(i));
      if (s == null || !s.state().isReady()) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public List<R> get(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    Map<String, TaskStatus> all = new java.util.HashMap<>(results.getOutcomes(ids));
    int waiting;
    while ((waiting = firstNotReady(all)) >= 0) {
      String member = ids.get(waiting);
      CompletableFuture<TaskStatus> ready = results.whenReady(member);
      try {
        ready.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        ready.cancel(false);
        TaskStatus last = all.get(member);
        throw new ResultTimeoutException(
            member, timeout, last == null ? TaskState.PENDING : last.state());
      } catch (InterruptedException e) {
        ready.cancel(false);
        throw e;
      } catch (ExecutionException e) {
        throw new IllegalStateException("waiting for group [" + id + "] failed", e.getCause());
      }
      // The members before it are ready already: only the rest are read again, in one batch.
      all.putAll(results.getOutcomes(ids.subList(waiting, ids.size())));
    }
    List<R> values = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      DefaultAsyncResult<R> r =
          new DefaultAsyncResult<>(ids.get(i), types.get(i), false, results, client, null);
      values.add(r.outcome(all.get(ids.get(i))));
    }
    return values;
  }

  @Override
  public int revoke() {
    return client.revokeAll(ids, Map.of());
  }

  @Override
  public String toString() {
    return "GroupResult[" + id + ", " + ids.size() + " members]";
  }
}
