package dev.errand.postgres.internal;

import dev.errand.DeadLetter;
import dev.errand.Event;
import dev.errand.WorkerInfo;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.WorkerRegistry;
import dev.errand.wire.Wire;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Dead letters, the bounded event log and worker heartbeats, in PostgreSQL. */
public final class PgStores {

  private static final Logger log = LoggerFactory.getLogger(PgStores.class);

  private PgStores() {}

  /**
   * Dead letters, newest first: by failure time, then by when they were added ({@code seq}, taken
   * anew when one is replaced, so that a replaced dead letter counts as the newest). They do not
   * expire: they stay until re-driven or discarded.
   */
  public static final class DeadLetters implements DeadLetterStore {
    private final Pg pg;

    public DeadLetters(Pg pg) {
      this.pg = Objects.requireNonNull(pg, "pg");
    }

    @Override
    public void add(DeadLetter dl) {
      Objects.requireNonNull(dl, "deadLetter");
      pg.read(
          "add dead letter",
          t -> {
            write(t, dl);
            return null;
          });
    }

    /** Adds (replaces) a dead letter inside the caller's transaction: one statement. */
    public static void write(Pg.Tx t, DeadLetter dl) throws SQLException {
      // excluded.seq is the sequence value the insert took: a replacement is the newest.
      PreparedStatement ps =
          t.prepare(
              "INSERT INTO {s}.dead_letters (id, queue, failed_at, body) VALUES (?, ?, ?, ?)"
                  + " ON CONFLICT (id) DO UPDATE SET queue = excluded.queue,"
                  + " failed_at = excluded.failed_at, body = excluded.body, seq = excluded.seq");
      ps.setString(1, dl.id());
      ps.setString(2, dl.queue());
      ps.setLong(3, dl.failedAt().toEpochMilli());
      ps.setBytes(4, Wire.encodeDeadLetter(dl));
      ps.executeUpdate();
    }

    @Override
    public List<DeadLetter> list(String queue, int offset, int limit) {
      if (limit < 0 || offset < 0) {
        throw new IllegalArgumentException(
            "offset and limit must be >= 0 but were " + offset + " and " + limit);
      }
      String sql =
          "SELECT body FROM {s}.dead_letters"
              + (queue == null ? "" : " WHERE queue = ?")
              + " ORDER BY failed_at DESC, seq DESC LIMIT ? OFFSET ?";
      return pg.read(
          "list dead letters",
          t -> {
            PreparedStatement ps = t.prepare(sql);
            int i = 1;
            if (queue != null) {
              ps.setString(i++, queue);
            }
            ps.setInt(i++, limit);
            ps.setInt(i, offset);
            List<DeadLetter> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(Wire.decodeDeadLetter(rs.getBytes(1)));
              }
            }
            return out;
          });
    }

    @Override
    public Optional<DeadLetter> get(String id) {
      return pg.read(
          "get dead letter",
          t -> {
            PreparedStatement ps = t.prepare("SELECT body FROM {s}.dead_letters WHERE id = ?");
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(Wire.decodeDeadLetter(rs.getBytes(1)))
                  : Optional.empty();
            }
          });
    }

    @Override
    public boolean remove(String id) {
      return pg.read(
          "remove dead letter",
          t -> {
            PreparedStatement ps = t.prepare("DELETE FROM {s}.dead_letters WHERE id = ?");
            ps.setString(1, id);
            return ps.executeUpdate() == 1;
          });
    }

    @Override
    public long count(String queue) {
      String sql =
          "SELECT count(*) FROM {s}.dead_letters" + (queue == null ? "" : " WHERE queue = ?");
      return pg.read(
          "count dead letters",
          t -> {
            PreparedStatement ps = t.prepare(sql);
            if (queue != null) {
              ps.setString(1, queue);
            }
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getLong(1) : 0L;
            }
          });
    }

    @Override
    public Map<String, Long> countByQueue() {
      return pg.read(
          "count dead letters by queue",
          t -> {
            Map<String, Long> out = new HashMap<>();
            try (ResultSet rs =
                t.prepare("SELECT queue, count(*) FROM {s}.dead_letters GROUP BY queue")
                    .executeQuery()) {
              while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
              }
            }
            return out;
          });
    }
  }

  /**
   * The event log, kept to the newest {@code capacity} by sequence number. A publish is one insert
   * (all its events from one array); the oldest are deleted only once the log has grown by a tenth
   * of its capacity beyond it (so that most publishes delete nothing), and every read leaves out
   * those beyond the capacity that are not deleted yet (one look at the newest entry of the primary
   * key). Sequence numbers increase with each publish; across concurrent publishers they are taken
   * in the order the inserts run, not the order they commit, so a reader following the log by
   * {@code afterSeq} can miss an event committed just after a newer one. Events are best-effort
   * observability.
   */
  public static final class Events implements EventStore {
    /** The newest sequence number, read from the end of the primary key. */
    private static final String NEWEST = "(SELECT coalesce(max(seq), 0) FROM {s}.events)";

    /** How long a published event may wait to be written with others: {@value} ms. */
    static final long FLUSH_DELAY_MS = 20;

    /** Events waiting beyond this are written by the publisher itself: {@value}. */
    static final int MAX_PENDING = 10_000;

    private final Pg pg;
    private final int capacity;
    private final long slack;
    // The newest sequence number this process deleted below; MIN_VALUE: none yet.
    private final AtomicLong trimmedTo = new AtomicLong(Long.MIN_VALUE);
    private final java.util.ArrayDeque<Event> pending = new java.util.ArrayDeque<>(); // guarded
    private final Object flushLock = new Object(); // one writer at a time, in publishing order
    private final java.util.concurrent.atomic.AtomicBoolean scheduled =
        new java.util.concurrent.atomic.AtomicBoolean();
    private java.util.concurrent.ScheduledExecutorService flusher; // guarded by pending
    private volatile boolean closed;

    public Events(Pg pg, int capacity) {
      if (capacity <= 0) {
        throw new IllegalArgumentException("capacity must be > 0 but was " + capacity);
      }
      this.pg = Objects.requireNonNull(pg, "pg");
      this.capacity = capacity;
      this.slack = Math.max(1, capacity / 10);
    }

    /**
     * Queues {@code events} and returns: a background thread writes what was published in the last
     * {@value #FLUSH_DELAY_MS} ms in one insert, so that neither an enqueue nor a batch of outcomes
     * waits for its events (a round trip and a commit each). Every read of this store writes what
     * is queued first, so this process reads its own events; other processes see them within about
     * {@value #FLUSH_DELAY_MS} ms. Beyond {@value #MAX_PENDING} queued (the database slower than
     * the publishers), the publisher writes them itself.
     */
    @Override
    public void publish(List<Event> events) {
      if (events.isEmpty()) {
        return;
      }
      int waiting;
      synchronized (pending) {
        pending.addAll(events);
        waiting = pending.size();
        if (flusher == null && !closed) {
          flusher =
              java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                  r -> {
                    Thread t = new Thread(r, "errand-pg-events-" + pg.schema());
                    t.setDaemon(true);
                    return t;
                  });
        }
      }
      if (waiting > MAX_PENDING || closed) {
        flush();
      } else if (scheduled.compareAndSet(false, true)) {
        try {
          flusher.schedule(
              this::flushInBackground, FLUSH_DELAY_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          scheduled.set(false);
          flush(); // closing
        }
      }
    }

    private void flushInBackground() {
      scheduled.set(false);
      try {
        flush();
      } catch (RuntimeException e) {
        log.warn(
            "writing events failed, they are kept and written with the next: {}", e.toString());
      }
    }

    /**
     * Writes the queued events now, in publishing order. On failure they stay queued (the oldest
     * beyond {@value #MAX_PENDING} are dropped, with a warning) and the failure is thrown.
     */
    public void flush() {
      synchronized (flushLock) {
        List<Event> batch;
        synchronized (pending) {
          if (pending.isEmpty()) {
            return;
          }
          batch = new ArrayList<>(pending);
          pending.clear();
        }
        try {
          trimAfter(pg.read("publish events", t -> insert(t, batch, INSERT_BEST_EFFORT)));
        } catch (RuntimeException e) {
          synchronized (pending) {
            List<Event> later = new ArrayList<>(pending);
            pending.clear();
            pending.addAll(batch);
            pending.addAll(later);
            int dropped = 0;
            while (pending.size() > MAX_PENDING) {
              pending.pollFirst();
              dropped++;
            }
            if (dropped > 0) {
              log.warn("dropped the {} oldest events: the database does not take them", dropped);
            }
          }
          throw e;
        }
      }
    }

    /** Writes what is queued and stops the background writer. */
    public void close() {
      java.util.concurrent.ScheduledExecutorService f;
      synchronized (pending) {
        closed = true;
        f = flusher;
      }
      try {
        flush();
      } catch (RuntimeException e) {
        log.warn("events not written at close: {}", e.toString());
      }
      if (f != null) {
        f.shutdownNow();
      }
    }

    /**
     * Publishes {@code events} inside the caller's transaction (an enqueue in the application's own
     * transaction): they exist if it commits.
     */
    public void publish(Pg.Tx t, List<Event> events) throws SQLException {
      if (!events.isEmpty()) {
        insert(t, events, INSERT); // trimmed by the next publish outside a transaction
      }
    }

    private static final String INSERT =
        "WITH i AS (INSERT INTO {s}.events (body) SELECT u.body"
            + " FROM unnest(?::bytea[]) WITH ORDINALITY AS u(body, n)"
            + " ORDER BY u.n RETURNING seq) SELECT max(seq) FROM i";

    /**
     * {@link #INSERT} as a statement of its own whose commit does not wait for the WAL to reach the
     * disk ({@code synchronous_commit} off for its transaction only): events are best effort, and a
     * crash of the server may lose the last few hundred milliseconds of them, never a task or an
     * outcome. Without it every enqueue and every batch of outcomes paid a second disk flush.
     */
    private static final String INSERT_BEST_EFFORT =
        "WITH i AS (INSERT INTO {s}.events (body) SELECT u.body"
            + " FROM unnest(?::bytea[]) WITH ORDINALITY AS u(body, n),"
            + " (SELECT set_config('synchronous_commit', 'off', true)) AS sc"
            + " ORDER BY u.n RETURNING seq) SELECT max(seq) FROM i";

    private static long insert(Pg.Tx t, List<Event> events, String sql) throws SQLException {
      byte[][] bodies = new byte[events.size()][];
      for (int i = 0; i < bodies.length; i++) {
        bodies[i] = Wire.encodeEvent(events.get(i).withSeq(0));
      }
      PreparedStatement ps = t.prepare(sql);
      ps.setArray(1, t.connection().createArrayOf("bytea", bodies));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }

    private void trimAfter(long newest) {
      long keepFrom = newest - capacity; // delete seq <= keepFrom
      long trimmed = trimmedTo.get();
      if (trimmed == Long.MIN_VALUE || keepFrom - trimmed >= slack) {
        if (trimmedTo.compareAndSet(trimmed, keepFrom)) {
          trim(keepFrom);
        }
      }
    }

    /** Deletes the events up to {@code seq}; a failure is logged (the next trim catches up). */
    private void trim(long seq) {
      if (seq <= 0) {
        return;
      }
      try {
        pg.read(
            "trim events",
            t -> {
              PreparedStatement ps = t.prepare("DELETE FROM {s}.events WHERE seq <= ?");
              ps.setLong(1, seq);
              return ps.executeUpdate();
            });
      } catch (RuntimeException e) {
        // The events are stored; the next publish tries again.
        trimmedTo.set(Long.MIN_VALUE);
        log.warn("trimming the event log failed: {}", e.toString());
      }
    }

    @Override
    public List<Event> read(long afterSeq, int limit) {
      flush();
      return query(
          "SELECT seq, body FROM {s}.events WHERE seq > ? AND seq > "
              + NEWEST
              + " - ? ORDER BY seq LIMIT ?",
          afterSeq,
          limit);
    }

    @Override
    public List<Event> latest(int limit) {
      flush();
      return query(
          "SELECT seq, body FROM {s}.events WHERE seq > "
              + NEWEST
              + " - ? ORDER BY seq DESC LIMIT ?",
          null,
          limit);
    }

    /**
     * Filters in the database on the id's bytes (no index: one on every event would slow each
     * publish), then checks each match exactly.
     */
    @Override
    public List<Event> forTask(String taskId, int limit) {
      flush();
      Objects.requireNonNull(taskId, "taskId");
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
      }
      if (limit == 0) {
        return List.of();
      }
      return pg.read(
          "read events",
          t -> {
            PreparedStatement ps =
                t.prepare(
                    "SELECT seq, body FROM {s}.events WHERE position(?::bytea in body) > 0"
                        + " AND seq > "
                        + NEWEST
                        + " - ? ORDER BY seq");
            ps.setBytes(1, taskId.getBytes(StandardCharsets.UTF_8));
            ps.setLong(2, capacity);
            List<Event> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next() && out.size() < limit) {
                Event e = Wire.decodeEvent(rs.getBytes(2)).withSeq(rs.getLong(1));
                if (taskId.equals(e.taskId())) {
                  out.add(e);
                }
              }
            }
            return out;
          });
    }

    /** Runs {@code sql}: parameters {@code after} (unless null), the capacity, {@code limit}. */
    private List<Event> query(String sql, Long after, int limit) {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
      }
      if (limit == 0) {
        return List.of();
      }
      return pg.read(
          "read events",
          t -> {
            PreparedStatement ps = t.prepare(sql);
            int p = 1;
            if (after != null) {
              ps.setLong(p++, after);
            }
            ps.setLong(p++, capacity);
            ps.setInt(p, limit);
            List<Event> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(Wire.decodeEvent(rs.getBytes(2)).withSeq(rs.getLong(1)));
              }
            }
            return out;
          });
    }
  }

  /** Worker heartbeats, each kept until its expiry by the database's clock. */
  public static final class Workers implements WorkerRegistry {
    private final Pg pg;

    public Workers(Pg pg) {
      this.pg = Objects.requireNonNull(pg, "pg");
    }

    @Override
    public void heartbeat(WorkerInfo info, Duration ttl) {
      byte[] body = Wire.encodeWorker(info);
      long ttlMillis = ttl.toMillis();
      pg.read(
          "heartbeat",
          t -> {
            PreparedStatement ps =
                t.prepare(
                    "INSERT INTO {s}.workers (name, body, expires_at) VALUES (?, ?, {now} +"
                        + " ?::bigint) ON CONFLICT (name) DO UPDATE SET body = excluded.body,"
                        + " expires_at = excluded.expires_at");
            ps.setString(1, info.name());
            ps.setBytes(2, body);
            ps.setLong(3, ttlMillis);
            return ps.executeUpdate();
          });
    }

    @Override
    public List<WorkerInfo> live() {
      return pg.read(
          "live workers",
          t -> {
            PreparedStatement ps =
                t.prepare(
                    "SELECT body FROM {s}.workers WHERE expires_at > {now}"
                        + " ORDER BY name COLLATE \"C\"");
            List<WorkerInfo> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(Wire.decodeWorker(rs.getBytes(1)));
              }
            }
            return out;
          });
    }

    @Override
    public void remove(String workerName) {
      pg.read(
          "remove worker",
          t -> {
            PreparedStatement ps = t.prepare("DELETE FROM {s}.workers WHERE name = ?");
            ps.setString(1, workerName);
            return ps.executeUpdate();
          });
    }
  }
}
