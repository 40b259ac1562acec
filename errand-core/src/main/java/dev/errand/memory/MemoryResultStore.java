package dev.errand.memory;

import dev.errand.BackendException;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The in-memory {@link ResultStore}. Entries expire by the clock. Waiters are completed by {@code
 * put} itself, outside the lock, so a waiter's callbacks never run while the store is locked.
 * Thread-safe.
 */
final class MemoryResultStore implements ResultStore {

  private final Clock clock;
  private final String description;
  private final Object lock = new Object();
  private final ExpiringMap<String, TaskStatus> statuses = new ExpiringMap<>();
  private final ExpiringMap<String, Boolean> revocations = new ExpiringMap<>();
  private final ExpiringMap<String, Boolean> onceClaims = new ExpiringMap<>();
  private final Map<String, List<CompletableFuture<TaskStatus>>> waiters = new HashMap<>();
  private boolean closed;

  MemoryResultStore(Clock clock, String description) {
    this.clock = clock;
    this.description = description;
  }

  @Override
  public void put(TaskStatus status, Duration ttl) {
    putAll(List.of(Objects.requireNonNull(status, "status")), ttl);
  }

  @Override
  public void putAll(List<TaskStatus> list, Duration ttl) {
    storeAll(list, ttl).run();
  }

  /**
   * Stores the statuses and returns what wakes their waiters, for the caller to run once it holds
   * no lock (a waiter's callbacks must not run inside a settlement).
   */
  Runnable storeAll(List<TaskStatus> list, Duration ttl) {
    Objects.requireNonNull(list, "statuses");
    Durations.requirePositive(ttl, "ttl");
    List<TaskStatus> readyStatuses = new ArrayList<>();
    List<List<CompletableFuture<TaskStatus>>> toComplete = new ArrayList<>();
    synchronized (lock) {
      Instant now = clock.instant();
      Instant expiresAt = Durations.plus(now, ttl);
      for (TaskStatus s : list) {
        Objects.requireNonNull(s, "statuses must not contain null");
        statuses.put(s.id(), s, expiresAt, now);
        if (s.state().isReady()) {
          List<CompletableFuture<TaskStatus>> w = waiters.remove(s.id());
          if (w != null) {
            readyStatuses.add(s);
            toComplete.add(w);
          }
        }
      }
    }
    return () -> {
      for (int i = 0; i < toComplete.size(); i++) {
        for (CompletableFuture<TaskStatus> f : toComplete.get(i)) {
          f.complete(readyStatuses.get(i));
        }
      }
    };
  }

  /** A scan of every status: fine for the tests and demos this backend is for. */
  @Override
  public TaskPage search(TaskQuery query) {
    Objects.requireNonNull(query, "query");
    TaskQuery.Cursor after = query.after() == null ? null : TaskQuery.Cursor.parse(query.after());
    List<TaskStatus> matching = new ArrayList<>();
    synchronized (lock) {
      for (TaskStatus s : statuses.values(clock.instant())) {
        if (query.matches(s)
            && (after == null || after.isBefore(TaskQuery.Cursor.millis(s), s.id()))) {
          matching.add(s);
        }
      }
    }
    matching.sort(NEWEST_FIRST);
    if (matching.size() <= query.limit()) {
      return new TaskPage(matching, null);
    }
    List<TaskStatus> page = matching.subList(0, query.limit());
    return new TaskPage(page, TaskQuery.Cursor.after(page.get(page.size() - 1)).toString());
  }

  @Override
  public long count(TaskQuery query) {
    Objects.requireNonNull(query, "query");
    synchronized (lock) {
      return statuses.values(clock.instant()).stream().filter(query::matches).count();
    }
  }

  @Override
  public long[] countByTime(TaskQuery query, TimeBuckets buckets) {
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(buckets, "buckets");
    long[] counts = new long[buckets.count()];
    synchronized (lock) {
      for (TaskStatus s : statuses.values(clock.instant())) {
        int i = buckets.indexOf(TaskQuery.Cursor.millis(s));
        if (i >= 0 && query.matches(s)) {
          counts[i]++;
        }
      }
    }
    return counts;
  }

  private static final Comparator<TaskStatus> NEWEST_FIRST =
      Comparator.comparingLong((TaskStatus s) -> TaskQuery.Cursor.millis(s))
          .thenComparing(TaskStatus::id)
          .reversed();

  @Override
  public Optional<TaskStatus> get(String taskId) {
    Objects.requireNonNull(taskId, "taskId");
    synchronized (lock) {
      return Optional.ofNullable(statuses.get(taskId, clock.instant()));
    }
  }

  @Override
  public CompletableFuture<TaskStatus> whenReady(String taskId) {
    Objects.requireNonNull(taskId, "taskId");
    CompletableFuture<TaskStatus> future = new CompletableFuture<>();
    synchronized (lock) {
      TaskStatus current = statuses.get(taskId, clock.instant());
      if (current != null && current.state().isReady()) {
        return CompletableFuture.completedFuture(current);
      }
      if (closed) {
        return CompletableFuture.failedFuture(closedException());
      }
      waiters.computeIfAbsent(taskId, id -> new ArrayList<>(1)).add(future);
    }
    // Cancelled, or completed by someone else: either way the store lets go of it.
    future.whenComplete((s, e) -> forget(taskId, future));
    return future;
  }

  private void forget(String taskId, CompletableFuture<TaskStatus> future) {
    synchronized (lock) {
      List<CompletableFuture<TaskStatus>> list = waiters.get(taskId);
      if (list != null && list.remove(future) && list.isEmpty()) {
        waiters.remove(taskId);
      }
    }
  }

  @Override
  public void revoke(String taskId, Duration ttl) {
    Objects.requireNonNull(taskId, "taskId");
    Durations.requirePositive(ttl, "ttl");
    synchronized (lock) {
      Instant now = clock.instant();
      revocations.put(taskId, Boolean.TRUE, Durations.plus(now, ttl), now);
    }
  }

  @Override
  public Set<String> revoked(Collection<String> taskIds) {
    Objects.requireNonNull(taskIds, "taskIds");
    Set<String> out = new LinkedHashSet<>();
    synchronized (lock) {
      Instant now = clock.instant();
      for (String id : taskIds) {
        if (revocations.get(id, now) != null) {
          out.add(id);
        }
      }
    }
    return out;
  }

  @Override
  public boolean claimOnce(String key, Duration ttl) {
    Objects.requireNonNull(key, "key");
    Durations.requirePositive(ttl, "ttl");
    synchronized (lock) {
      Instant now = clock.instant();
      if (onceClaims.get(key, now) != null) {
        return false;
      }
      onceClaims.put(key, Boolean.TRUE, Durations.plus(now, ttl), now);
      return true;
    }
  }

  /** How many futures are waiting, for tests: cancelled ones must not be held. */
  int waiterCount() {
    synchronized (lock) {
      return waiters.values().stream().mapToInt(List::size).sum();
    }
  }

  /** Fails the waiters in progress; later waits for unfinished tasks fail at once. */
  void close() {
    List<CompletableFuture<TaskStatus>> pending = new ArrayList<>();
    synchronized (lock) {
      closed = true;
      waiters.values().forEach(pending::addAll);
      waiters.clear();
    }
    for (CompletableFuture<TaskStatus> f : pending) {
      f.completeExceptionally(closedException());
    }
  }

  private BackendException closedException() {
    return new BackendException("backend " + description + " is closed", null);
  }
}
