package dev.errand.postgres.internal;

import dev.errand.BackendException;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import dev.errand.wire.Wire;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results in PostgreSQL. A write of ready statuses notifies the results channel ({@link
 * PgNotifier#RESULTS}) with each task id, in the writing transaction, so that the notification is
 * delivered when, and only if, the write commits. {@link #whenReady} is completed at once by a
 * write in this process ({@link #completeReady}); results written by other processes wake it
 * through the notifier: the listener thread only queues the ids that something waits for, and one
 * thread of this store reads them, all queued ids in one query. No loop polls.
 *
 * <p>Listening starts with the first {@link #whenReady}. {@code LISTEN} takes effect on the
 * listener's connection a moment later (or, with the server down, once it is back); the notifier
 * then says so (a null payload), and every waited id is looked up once: a result committed in
 * between is not missed. The same after the listener reconnects.
 *
 * <p>Each row also holds, in columns of its own, the fields a search filters and orders by, each
 * indexed with the update time (see {@link PgResultSearch}). Every read compares the expiry with
 * the database's time ({@code {now}}), so an expired row is invisible before the janitor deletes it
 * ({@link PgJanitor}). Thread-safe.
 */
public final class PgResultStore implements ResultStore {

  private static final Logger log = LoggerFactory.getLogger(PgResultStore.class);

  /** The most ids one {@code = ANY(?)} lookup binds: {@value}. */
  static final int ANY_CHUNK = 10_000;

  private final Pg pg;
  private final PgNotifier notifier;
  private final String channel;
  private final Map<String, List<CompletableFuture<TaskStatus>>> waiters =
      new ConcurrentHashMap<>();
  private final Set<String> woken = ConcurrentHashMap.newKeySet(); // notified, not yet looked up
  private final AtomicBoolean lookAll = new AtomicBoolean(); // look up every waited id
  private final AtomicBoolean lookScheduled = new AtomicBoolean();
  private final ThreadPoolExecutor lookups;
  private final AtomicBoolean listening = new AtomicBoolean();
  private volatile boolean closed;

  public PgResultStore(Pg pg, PgNotifier notifier) {
    this.pg = Objects.requireNonNull(pg, "pg");
    this.notifier = Objects.requireNonNull(notifier, "notifier");
    this.channel = notifier.channel(PgNotifier.RESULTS);
    // One thread, started by the first wake-up and gone after 10 s without any.
    this.lookups =
        new ThreadPoolExecutor(
            1,
            1,
            10,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "errand-pg-results-" + pg.schema());
              t.setDaemon(true);
              return t;
            });
    this.lookups.allowCoreThreadTimeOut(true);
  }

  @Override
  public void put(TaskStatus status, Duration ttl) {
    putAll(List.of(status), ttl);
  }

  /** One statement (an upsert of every status and the notifications of the ready ones). */
  @Override
  public void putAll(List<TaskStatus> statuses, Duration ttl) {
    if (statuses.isEmpty()) {
      return;
    }
    long ttlMillis = ttl.toMillis();
    pg.read("put result", t -> upsert(t, statuses, null, ttlMillis));
    completeReady(statuses);
  }

  /**
   * Writes statuses inside the caller's transaction, expiring at {@code expiresAtMillis} (database
   * time), and notifies the ready ones' ids in it; call {@link #completeReady} after the commit.
   * One statement: the last status of a task in the list wins.
   */
  public Void write(Pg.Tx t, List<TaskStatus> statuses, long expiresAtMillis) throws SQLException {
    return statuses.isEmpty() ? null : upsert(t, statuses, expiresAtMillis, 0);
  }

  /**
   * An upsert of every status from arrays, with the {@code pg_notify} of the ready ones in the same
   * statement, expiring at {@code expiresAt}, or (null) {@code ttlMillis} after the database's now.
   * The rows are written in id order, so two writers of overlapping batches lock them in the same
   * order and cannot deadlock; and one row per id (an upsert cannot touch a row twice).
   */
  private Void upsert(Pg.Tx t, List<TaskStatus> statuses, Long expiresAt, long ttlMillis)
      throws SQLException {
    TreeMap<String, TaskStatus> last = new TreeMap<>();
    for (TaskStatus s : statuses) {
      last.put(s.id(), s);
    }
    int n = last.size();
    String[] ids = new String[n];
    Boolean[] ready = new Boolean[n];
    byte[][] bodies = new byte[n][];
    String[] names = new String[n];
    String[] states = new String[n];
    String[] queues = new String[n];
    String[] parents = new String[n];
    Long[] updated = new Long[n];
    int i = 0;
    for (TaskStatus s : last.values()) {
      ids[i] = s.id();
      ready[i] = s.state().isReady();
      bodies[i] = Wire.encodeStatus(s);
      names[i] = s.name();
      states[i] = s.state().name();
      queues[i] = s.queue();
      parents[i] = s.parentId();
      updated[i] = TaskQuery.Cursor.millis(s);
      i++;
    }
    PreparedStatement ps =
        t.prepare(
            "WITH w AS (INSERT INTO {s}.results (id, ready, body, expires_at, name, state, queue,"
                + " parent_id, updated_at) SELECT u.id, u.ready, u.body, "
                + (expiresAt == null ? "{now} + ?::bigint" : "?::bigint")
                + ", u.name, u.state, u.queue, u.parent_id, u.updated_at FROM unnest(?::text[],"
                + " ?::boolean[], ?::bytea[], ?::text[], ?::text[], ?::text[], ?::text[],"
                + " ?::bigint[]) AS u(id, ready, body, name, state, queue, parent_id, updated_at)"
                + " ON CONFLICT (id) DO UPDATE SET ready = excluded.ready, body = excluded.body,"
                + " expires_at = excluded.expires_at, name = excluded.name, state = excluded.state,"
                + " queue = excluded.queue, parent_id = excluded.parent_id,"
                + " updated_at = excluded.updated_at RETURNING id, ready)"
                + " SELECT count(pg_notify('"
                + channel
                + "', w.id)) FROM w WHERE w.ready");
    var c = t.connection();
    ps.setLong(1, expiresAt == null ? ttlMillis : expiresAt);
    ps.setArray(2, c.createArrayOf("text", ids));
    ps.setArray(3, c.createArrayOf("bool", ready));
    ps.setArray(4, c.createArrayOf("bytea", bodies));
    ps.setArray(5, c.createArrayOf("text", names));
    ps.setArray(6, c.createArrayOf("text", states));
    ps.setArray(7, c.createArrayOf("text", queues));
    ps.setArray(8, c.createArrayOf("text", parents));
    ps.setArray(9, c.createArrayOf("int8", updated));
    ps.executeQuery().close();
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
    return pg.read(
        "get result",
        t -> {
          PreparedStatement ps =
              t.prepare("SELECT body FROM {s}.results WHERE id = ? AND expires_at > {now}");
          ps.setString(1, taskId);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(Wire.decodeStatus(rs.getBytes(1))) : Optional.empty();
          }
        });
  }

  /** One {@code = ANY(?)} query per {@value #ANY_CHUNK} ids, on one connection. */
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
    List<String> ids = List.copyOf(taskIds);
    Map<String, TaskStatus> found = new HashMap<>();
    pg.read(
        "get results",
        t -> {
          for (int from = 0; from < ids.size(); from += ANY_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + ANY_CHUNK));
            PreparedStatement ps =
                t.prepare(
                    "SELECT id, body FROM {s}.results WHERE id = ANY(?::text[])"
                        + " AND expires_at > {now}");
            ps.setArray(1, t.connection().createArrayOf("text", chunk.toArray()));
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

  /** One index range scan per page; see {@link PgResultSearch}. */
  @Override
  public TaskPage search(TaskQuery query) {
    Objects.requireNonNull(query, "query");
    return pg.read("search results", t -> PgResultSearch.search(t, query));
  }

  @Override
  public long count(TaskQuery query) {
    Objects.requireNonNull(query, "query");
    return pg.read("count results", t -> PgResultSearch.count(t, query));
  }

  /** One statement over an index range; see {@link PgResultSearch}. */
  @Override
  public long[] countByTime(TaskQuery query, TimeBuckets buckets) {
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(buckets, "buckets");
    return pg.read("count results by time", t -> PgResultSearch.countByTime(t, query, buckets));
  }

  @Override
  public CompletableFuture<TaskStatus> whenReady(String taskId) {
    Objects.requireNonNull(taskId, "taskId");
    CompletableFuture<TaskStatus> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(closedException());
      return f;
    }
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
    // Listening before the look: a result committed after the look is notified (or, before LISTEN
    // is in effect, found by the look at every waited id that follows it).
    listen();
    try {
      get(taskId).filter(s -> s.state().isReady()).ifPresent(this::complete);
    } catch (RuntimeException e) {
      f.completeExceptionally(e);
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

  private void listen() {
    if (listening.compareAndSet(false, true)) {
      notifier.listen(PgNotifier.RESULTS, this::notified);
    }
  }

  /** On the listener thread: queues what to look up, quickly. */
  private void notified(String payload) {
    if (payload == null) {
      lookAll.set(true); // LISTEN just took effect: what committed before it was not notified
    } else if (waiters.containsKey(payload)) {
      woken.add(payload);
    } else {
      return;
    }
    if (lookScheduled.compareAndSet(false, true)) {
      try {
        lookups.execute(this::lookUp);
      } catch (RuntimeException e) {
        lookScheduled.set(false);
        log.warn("cannot look up woken results: {}", e.toString());
      }
    }
  }

  /** Reads the ready statuses of the woken (or all waited) ids, and completes their waiters. */
  private void lookUp() {
    lookScheduled.set(false);
    List<String> ids;
    if (lookAll.getAndSet(false)) {
      woken.clear();
      ids = new ArrayList<>(waiters.keySet());
    } else {
      ids = new ArrayList<>();
      for (String id : woken) {
        woken.remove(id);
        if (waiters.containsKey(id)) {
          ids.add(id);
        }
      }
    }
    if (ids.isEmpty() || closed) {
      return;
    }
    try {
      List<TaskStatus> ready = new ArrayList<>();
      pg.read(
          "look up ready results",
          t -> {
            for (int from = 0; from < ids.size(); from += ANY_CHUNK) {
              List<String> chunk = ids.subList(from, Math.min(ids.size(), from + ANY_CHUNK));
              PreparedStatement ps =
                  t.prepare(
                      "SELECT body FROM {s}.results WHERE id = ANY(?::text[]) AND ready"
                          + " AND expires_at > {now}");
              ps.setArray(1, t.connection().createArrayOf("text", chunk.toArray()));
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  ready.add(Wire.decodeStatus(rs.getBytes(1)));
                }
              }
            }
            return null;
          });
      ready.forEach(this::complete);
    } catch (RuntimeException e) {
      if (closed) {
        return;
      }
      // Looked up again at the next wake-up of any of them, or after the listener reconnects.
      log.warn("looking up {} woken results failed: {}", ids.size(), e.toString());
      woken.addAll(ids);
    }
  }

  @Override
  public void revoke(String taskId, Duration ttl) {
    revokeAll(List.of(taskId), ttl);
  }

  /** One statement; the ids in order, once each (so concurrent revokes cannot deadlock). */
  @Override
  public void revokeAll(Collection<String> taskIds, Duration ttl) {
    if (taskIds.isEmpty()) {
      return;
    }
    String[] ids = new TreeSet<>(taskIds).toArray(new String[0]);
    long ttlMillis = ttl.toMillis();
    pg.read(
        "revoke",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "INSERT INTO {s}.revoked (id, expires_at) SELECT x, {now} + ?::bigint"
                      + " FROM unnest(?::text[]) AS x ON CONFLICT (id) DO UPDATE"
                      + " SET expires_at = excluded.expires_at");
          ps.setLong(1, ttlMillis);
          ps.setArray(2, t.connection().createArrayOf("text", ids));
          return ps.executeUpdate();
        });
  }

  @Override
  public Set<String> revoked(Collection<String> taskIds) {
    if (taskIds.isEmpty()) {
      return Set.of();
    }
    List<String> ids = new ArrayList<>(taskIds);
    Set<String> out = new HashSet<>();
    pg.read(
        "revoked",
        t -> {
          for (int from = 0; from < ids.size(); from += ANY_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + ANY_CHUNK));
            PreparedStatement ps =
                t.prepare(
                    "SELECT id FROM {s}.revoked WHERE id = ANY(?::text[]) AND expires_at > {now}");
            ps.setArray(1, t.connection().createArrayOf("text", chunk.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
          }
          return null;
        });
    return out;
  }

  /** One statement: a new key, or an expired one taken over; a live one is left alone. */
  @Override
  public boolean claimOnce(String key, Duration ttl) {
    long ttlMillis = ttl.toMillis();
    return pg.read(
        "claim once",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "INSERT INTO {s}.once_keys (key, expires_at) VALUES (?, {now} + ?::bigint)"
                      + " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at"
                      + " WHERE once_keys.expires_at <= {now}");
          ps.setString(1, key);
          ps.setLong(2, ttlMillis);
          return ps.executeUpdate() == 1;
        });
  }

  /** Fails every pending wait: the backend is closing. */
  public void close() {
    closed = true;
    lookups.shutdownNow();
    for (List<CompletableFuture<TaskStatus>> list : waiters.values()) {
      for (CompletableFuture<TaskStatus> f : list) {
        f.completeExceptionally(closedException());
      }
    }
  }

  private BackendException closedException() {
    return new BackendException("PostgreSQL backend " + pg.describe() + " closed", null);
  }
}
