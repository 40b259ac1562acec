package dev.errand.sqlite.internal;

import dev.errand.BackendException;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import dev.errand.wire.Wire;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results in SQLite. {@link #whenReady} is completed at once by a put in this process; results
 * written by other processes are found by one poller thread, started only when something waits,
 * that looks up every waited id in one query, backing off from 2 ms to {@link #MAX_POLL} while
 * nothing changes. Each row also holds, in columns of its own, the fields a search filters and
 * orders by, each indexed with the update time (see {@link ResultSearch}).
 */
public final class SqliteResultStore implements ResultStore {

  private static final Logger log = LoggerFactory.getLogger(SqliteResultStore.class);

  /** The longest the poller waits between two looks for results of other processes. */
  public static final Duration MAX_POLL = Duration.ofMillis(100);

  private static final int CHUNK = 64;

  /** The most ids one {@code IN (...)} of {@link #getAll} asks for: {@value}. */
  static final int IN_CHUNK = 500;

  private final Db db;
  private final Clock clock;
  private final Map<String, List<CompletableFuture<TaskStatus>>> waiters =
      new ConcurrentHashMap<>();
  private final Object pollerLock = new Object();
  private Thread poller;

  public SqliteResultStore(Db db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  @Override
  public void put(TaskStatus status, Duration ttl) {
    putAll(List.of(status), ttl);
  }

  @Override
  public void putAll(List<TaskStatus> statuses, Duration ttl) {
    if (statuses.isEmpty()) {
      return;
    }
    long expires = clock.millis() + ttl.toMillis();
    db.tx("put result", d -> write(d, statuses, expires));
    completeReady(statuses);
  }

  /** Writes statuses inside the caller's transaction; call {@link #completeReady} after commit. */
  public Void write(Db d, List<TaskStatus> statuses, long expiresAtMillis)
      throws java.sql.SQLException {
    // Multi-row statements: one step per chunk. Rows of one statement are applied in order, so
    // the last status of a task in the list wins, as with one statement per status. (An upsert
    // instead of the replace measured no cheaper: every index holds updated_at, which changes.)
    for (int from = 0; from < statuses.size(); from += CHUNK) {
      int n = Math.min(CHUNK, statuses.size() - from);
      PreparedStatement ps =
          d.prepare(
              "INSERT OR REPLACE INTO results (id, ready, body, expires_at, name, state, queue,"
                  + " parent_id, updated_at) VALUES "
                  + "(?, ?, ?, ?, ?, ?, ?, ?, ?),".repeat(n - 1)
                  + "(?, ?, ?, ?, ?, ?, ?, ?, ?)");
      int p = 1;
      for (int i = 0; i < n; i++) {
        TaskStatus s = statuses.get(from + i);
        ps.setString(p++, s.id());
        ps.setInt(p++, s.state().isReady() ? 1 : 0);
        ps.setBytes(p++, Wire.encodeStatus(s));
        ps.setLong(p++, expiresAtMillis);
        ps.setString(p++, s.name());
        ps.setString(p++, s.state().name());
        ps.setString(p++, s.queue());
        ps.setString(p++, s.parentId());
        ps.setLong(p++, TaskQuery.Cursor.millis(s));
      }
      ps.executeUpdate();
    }
    return null;
  }

  /** Completes this process's waiters of the ready statuses among {@code statuses}. */
  public void completeReady(List<TaskStatus> statuses) {
    if (waiters.isEmpty()) {
      return;
    }
    for (TaskStatus s : statuses) {
      if (s.state().isReady()) {
        complete(s);
      }
    }
  }

  @Override
  public Optional<TaskStatus> get(String taskId) {
    long now = clock.millis();
    return db.read(
        "get result",
        d -> {
          PreparedStatement ps =
              d.prepare("SELECT body FROM results WHERE id = ? AND expires_at > ?");
          ps.setString(1, taskId);
          ps.setLong(2, now);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(Wire.decodeStatus(rs.getBytes(1))) : Optional.empty();
          }
        });
  }

  /**
   * One {@code IN (...)} query per {@value #IN_CHUNK} ids, all under one hold of the connection. A
   * short chunk is padded (with its last id) to the next power of two, so that a handful of
   * statements, not one per length, are prepared and kept.
   */
  @Override
  public Map<String, TaskStatus> getAll(Collection<String> taskIds) {
    return read(taskIds, false);
  }

  @Override
  public Map<String, TaskStatus> getOutcomes(Collection<String> taskIds) {
    return read(taskIds, true);
  }

  private Map<String, TaskStatus> read(Collection<String> taskIds, boolean outcomes) {
    Objects.requireNonNull(taskIds, "taskIds");
    if (taskIds.isEmpty()) {
      return Map.of();
    }
    long now = clock.millis();
    List<String> ids = List.copyOf(taskIds);
    Map<String, TaskStatus> found = new HashMap<>();
    db.read(
        "get results",
        d -> {
          for (int from = 0; from < ids.size(); from += IN_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + IN_CHUNK));
            int slots = inSlots(chunk.size());
            PreparedStatement ps =
                d.prepare(
                    "SELECT id, body FROM results WHERE expires_at > ? AND id IN ("
                        + "?,".repeat(slots - 1)
                        + "?)");
            ps.setLong(1, now);
            for (int i = 0; i < slots; i++) {
              ps.setString(i + 2, chunk.get(Math.min(i, chunk.size() - 1)));
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                byte[] body = rs.getBytes(2);
                found.put(
                    rs.getString(1),
                    outcomes ? Wire.decodeOutcome(body, 0, body.length) : Wire.decodeStatus(body));
              }
            }
          }
          return null;
        });
    Map<String, TaskStatus> ordered = new LinkedHashMap<>();
    for (String id : ids) {
      TaskStatus s = found.get(id);
      if (s != null) {
        ordered.putIfAbsent(id, s);
      }
    }
    return ordered;
  }

  /** The parameter count for a chunk of {@code n} ids: the next power of two, at most 500. */
  static int inSlots(int n) {
    int pow = n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    return Math.min(IN_CHUNK, pow);
  }

  /** One indexed range scan per page; see {@link ResultSearch}. */
  @Override
  public TaskPage search(TaskQuery query) {
    Objects.requireNonNull(query, "query");
    long now = clock.millis();
    return db.read("search results", d -> ResultSearch.search(d, query, now));
  }

  @Override
  public long count(TaskQuery query) {
    Objects.requireNonNull(query, "query");
    long now = clock.millis();
    return db.read("count results", d -> ResultSearch.count(d, query, now));
  }

  /** One {@code GROUP BY} over an indexed range; see {@link ResultSearch}. */
  @Override
  public long[] countByTime(TaskQuery query, TimeBuckets buckets) {
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(buckets, "buckets");
    long now = clock.millis();
    return db.read("count results by time", d -> ResultSearch.countByTime(d, query, buckets, now));
  }

  @Override
  public CompletableFuture<TaskStatus> whenReady(String taskId) {
    CompletableFuture<TaskStatus> f = new CompletableFuture<>();
    waiters.computeIfAbsent(taskId, k -> new CopyOnWriteArrayList<>()).add(f);
    f.whenComplete(
        (s, e) -> {
          List<CompletableFuture<TaskStatus>> list = waiters.get(taskId);
          if (list != null) {
            list.remove(f);
            if (list.isEmpty()) {
              waiters.remove(taskId, list);
            }
          }
        });
    get(taskId).filter(s -> s.state().isReady()).ifPresent(this::complete);
    if (!f.isDone()) {
      startPoller();
    }
    return f;
  }

  private void complete(TaskStatus s) {
    List<CompletableFuture<TaskStatus>> list = waiters.remove(s.id());
    if (list != null) {
      for (CompletableFuture<TaskStatus> f : list) {
        f.complete(s);
      }
    }
  }

  private void startPoller() {
    synchronized (pollerLock) {
      if (poller == null || !poller.isAlive()) {
        poller = new Thread(this::poll, "errand-sqlite-results");
        poller.setDaemon(true);
        poller.start();
      }
    }
  }

  private void poll() {
    long sleepNanos = TimeUnit.MILLISECONDS.toNanos(2);
    while (!db.isClosed()) {
      if (waiters.isEmpty()) {
        synchronized (pollerLock) {
          if (waiters.isEmpty()) {
            poller = null;
            return; // started again by the next waiter
          }
        }
      }
      boolean found = false;
      try {
        found = pollOnce();
      } catch (BackendException | IllegalStateException e) {
        if (db.isClosed()) {
          break;
        }
        log.warn("polling for results failed: {}", e.toString());
      }
      sleepNanos =
          found ? TimeUnit.MILLISECONDS.toNanos(2) : Math.min(sleepNanos * 2, MAX_POLL.toNanos());
      try {
        TimeUnit.NANOSECONDS.sleep(sleepNanos);
      } catch (InterruptedException e) {
        return;
      }
    }
    for (List<CompletableFuture<TaskStatus>> list : waiters.values()) {
      for (CompletableFuture<TaskStatus> f : list) {
        f.completeExceptionally(new BackendException("SQLite backend closed", null));
      }
    }
  }

  private boolean pollOnce() {
    List<String> ids = new ArrayList<>(waiters.keySet());
    if (ids.isEmpty()) {
      return false;
    }
    long now = clock.millis();
    List<TaskStatus> ready = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += 500) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
      String sql =
          "SELECT body FROM results WHERE ready = 1 AND expires_at > ? AND id IN ("
              + "?,".repeat(chunk.size() - 1)
              + "?)";
      db.read(
          "poll results",
          d -> {
            PreparedStatement ps = d.prepare(sql);
            ps.setLong(1, now);
            for (int i = 0; i < chunk.size(); i++) {
              ps.setString(i + 2, chunk.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                ready.add(Wire.decodeStatus(rs.getBytes(1)));
              }
            }
            return null;
          });
    }
    ready.forEach(this::complete);
    return !ready.isEmpty();
  }

  @Override
  public void revoke(String taskId, Duration ttl) {
    revokeAll(List.of(taskId), ttl);
  }

  @Override
  public void revokeAll(Collection<String> taskIds, Duration ttl) {
    if (taskIds.isEmpty()) {
      return;
    }
    long expires = clock.millis() + ttl.toMillis();
    db.tx(
        "revoke",
        d -> {
          PreparedStatement ps =
              d.prepare("INSERT OR REPLACE INTO revoked (id, expires_at) VALUES (?, ?)");
          for (String id : taskIds) {
            ps.setString(1, id);
            ps.setLong(2, expires);
            ps.addBatch();
          }
          ps.executeBatch();
          return null;
        });
  }

  @Override
  public Set<String> revoked(Collection<String> taskIds) {
    if (taskIds.isEmpty()) {
      return Set.of();
    }
    long now = clock.millis();
    List<String> ids = new ArrayList<>(taskIds);
    Set<String> out = new HashSet<>();
    for (int from = 0; from < ids.size(); from += 500) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
      String sql =
          "SELECT id FROM revoked WHERE expires_at > ? AND id IN ("
              + "?,".repeat(chunk.size() - 1)
              + "?)";
      db.read(
          "revoked",
          d -> {
            PreparedStatement ps = d.prepare(sql);
            ps.setLong(1, now);
            for (int i = 0; i < chunk.size(); i++) {
              ps.setString(i + 2, chunk.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
            return null;
          });
    }
    return out;
  }

  @Override
  public boolean claimOnce(String key, Duration ttl) {
    long now = clock.millis();
    return db.tx(
        "claim once",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  "INSERT INTO once_keys (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                      + " SET expires_at = excluded.expires_at WHERE once_keys.expires_at <= ?");
          ps.setString(1, key);
          ps.setLong(2, now + ttl.toMillis());
          ps.setLong(3, now);
          return ps.executeUpdate() == 1;
        });
  }

  /** Fails every pending wait: the backend is closing. */
  public void close() {
    for (List<CompletableFuture<TaskStatus>> list : waiters.values()) {
      for (CompletableFuture<TaskStatus> f : list) {
        f.completeExceptionally(new BackendException("SQLite backend closed", null));
      }
    }
  }
}
