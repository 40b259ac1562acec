package dev.errand.sqlite.internal;

import dev.errand.DeadLetter;
import dev.errand.Event;
import dev.errand.WorkerInfo;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.WorkerRegistry;
import dev.errand.wire.Wire;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Dead letters, the bounded event log and worker heartbeats, in SQLite. */
public final class SqliteStores {

  private SqliteStores() {}

  /** Dead letters, newest first. */
  public static final class DeadLetters implements DeadLetterStore {
    private final Db db;

    public DeadLetters(Db db) {
      this.db = db;
    }

    @Override
    public void add(DeadLetter dl) {
      db.tx("add dead letter", d -> write(d, dl));
    }

    /** Adds (replaces) a dead letter inside the caller's transaction. */
    public static int write(Db d, DeadLetter dl) throws SQLException {
      // Delete then insert, so that a replaced dead letter counts as the newest.
      PreparedStatement del = d.prepare("DELETE FROM dead_letters WHERE id = ?");
      del.setString(1, dl.id());
      del.executeUpdate();
      PreparedStatement ps =
          d.prepare("INSERT INTO dead_letters (id, queue, failed_at, body) VALUES (?, ?, ?, ?)");
      ps.setString(1, dl.id());
      ps.setString(2, dl.queue());
      ps.setLong(3, dl.failedAt().toEpochMilli());
      ps.setBytes(4, Wire.encodeDeadLetter(dl));
      return ps.executeUpdate();
    }

    @Override
    public List<DeadLetter> list(String queue, int offset, int limit) {
      String sql =
          "SELECT body FROM dead_letters"
              + (queue == null ? "" : " WHERE queue = ?")
              + " ORDER BY failed_at DESC, rowid DESC LIMIT ? OFFSET ?";
      return db.read(
          "list dead letters",
          d -> {
            PreparedStatement ps = d.prepare(sql);
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
      return db.read(
          "get dead letter",
          d -> {
            PreparedStatement ps = d.prepare("SELECT body FROM dead_letters WHERE id = ?");
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
      return db.tx(
          "remove dead letter",
          d -> {
            PreparedStatement ps = d.prepare("DELETE FROM dead_letters WHERE id = ?");
            ps.setString(1, id);
            return ps.executeUpdate() == 1;
          });
    }

    @Override
    public long count(String queue) {
      String sql = "SELECT COUNT(*) FROM dead_letters" + (queue == null ? "" : " WHERE queue = ?");
      return db.read(
          "count dead letters",
          d -> {
            PreparedStatement ps = d.prepare(sql);
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
      return db.read(
          "count dead letters by queue",
          d -> {
            Map<String, Long> out = new HashMap<>();
            try (ResultSet rs =
                d.prepare("SELECT queue, COUNT(*) FROM dead_letters GROUP BY queue")
                    .executeQuery()) {
              while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
              }
            }
            return out;
          });
    }
  }

  /** The event log, trimmed to its capacity on every publish. */
  public static final class Events implements EventStore {
    private static final int INSERT_CHUNK = 64;
    private final Db db;
    private final int capacity;

    public Events(Db db, int capacity) {
      this.db = db;
      this.capacity = capacity;
    }

    @Override
    public void publish(List<Event> events) {
      if (events.isEmpty()) {
        return;
      }
      db.tx(
          "publish events",
          d -> {
            // Multi-row inserts: one statement step per chunk instead of per event.
            for (int from = 0; from < events.size(); from += INSERT_CHUNK) {
              int n = Math.min(INSERT_CHUNK, events.size() - from);
              PreparedStatement ps =
                  d.prepare("INSERT INTO events (body) VALUES " + "(?),".repeat(n - 1) + "(?)");
              for (int i = 0; i < n; i++) {
                ps.setBytes(i + 1, Wire.encodeEvent(events.get(from + i).withSeq(0)));
              }
              ps.executeUpdate();
            }
            PreparedStatement trim =
                d.prepare("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?");
            trim.setInt(1, capacity);
            trim.executeUpdate();
            return null;
          });
    }

    @Override
    public List<Event> read(long afterSeq, int limit) {
      return query(
          "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit);
    }

    @Override
    public List<Event> latest(int limit) {
      return query(
          "SELECT seq, body FROM events WHERE seq > ? ORDER BY seq DESC LIMIT ?", -1, limit);
    }

    /**
     * Filters inside SQLite on the id's bytes (no index: one on every event would slow each
     * publish), then checks each match exactly.
     */
    @Override
    public List<Event> forTask(String taskId, int limit) {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
      }
      return db.read(
          "read events",
          d -> {
            PreparedStatement ps =
                d.prepare("SELECT seq, body FROM events WHERE instr(body, ?) > 0 ORDER BY seq");
            ps.setBytes(1, taskId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
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

    private List<Event> query(String sql, long after, int limit) {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
      }
      return db.read(
          "read events",
          d -> {
            PreparedStatement ps = d.prepare(sql);
            ps.setLong(1, after);
            ps.setInt(2, limit);
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

  /** Worker heartbeats with expiry. */
  public static final class Workers implements WorkerRegistry {
    private final Db db;
    private final Clock clock;

    public Workers(Db db, Clock clock) {
      this.db = db;
      this.clock = clock;
    }

    @Override
    public void heartbeat(WorkerInfo info, Duration ttl) {
      long expires = clock.millis() + ttl.toMillis();
      db.tx(
          "heartbeat",
          d -> {
            PreparedStatement ps =
                d.prepare(
                    "INSERT OR REPLACE INTO workers (name, body, expires_at) VALUES (?, ?, ?)");
            ps.setString(1, info.name());
            ps.setBytes(2, Wire.encodeWorker(info));
            ps.setLong(3, expires);
            return ps.executeUpdate();
          });
    }

    @Override
    public List<WorkerInfo> live() {
      long now = clock.millis();
      return db.read(
          "live workers",
          d -> {
            PreparedStatement ps =
                d.prepare("SELECT body FROM workers WHERE expires_at > ? ORDER BY name");
            ps.setLong(1, now);
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
      db.tx(
          "remove worker",
          d -> {
            PreparedStatement ps = d.prepare("DELETE FROM workers WHERE name = ?");
            ps.setString(1, workerName);
            return ps.executeUpdate();
          });
    }
  }
}
