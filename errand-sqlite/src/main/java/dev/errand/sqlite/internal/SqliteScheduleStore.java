package dev.errand.sqlite.internal;

import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Schedules and leader leases in SQLite. Each compare-and-set and each lease change is checked and
 * written in one IMMEDIATE transaction, so two processes sharing the file never both pass the same
 * check. One counter row gives out versions and counts changes: a version is never reused, even
 * after a delete. {@link #awaitChange} is ended at once by a write in this process and sees those
 * of other processes by polling the counter, backing off to {@link #MAX_POLL}.
 */
public final class SqliteScheduleStore implements ScheduleStore {

  /** The longest a waiter goes between two looks for changes made by other processes. */
  public static final Duration MAX_POLL = Duration.ofMillis(100);

  private static final long MIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final Duration FOREVER = Duration.ofNanos(Long.MAX_VALUE);

  private final Db db;
  private final Clock clock;
  private final ReentrantLock waitLock = new ReentrantLock();
  private final Condition changed = waitLock.newCondition();
  private volatile long localWrites; // raised under waitLock

  public SqliteScheduleStore(Db db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  @Override
  public List<StoredSchedule> list() {
    List<StoredSchedule> out =
        db.read(
            "list schedules",
            d -> {
              List<StoredSchedule> all = new ArrayList<>();
              try (ResultSet rs =
                  d.prepare("SELECT name, body, version FROM schedules").executeQuery()) {
                while (rs.next()) {
                  all.add(new StoredSchedule(rs.getString(1), rs.getString(2), rs.getLong(3)));
                }
              }
              return all;
            });
    // Sorted here, not by ORDER BY: SQLite compares UTF-8 bytes, String.compareTo UTF-16 units,
    // and the two disagree past U+FFFF; callers expect String order, as the memory store gives.
    out.sort(Comparator.comparing(StoredSchedule::name));
    return out;
  }

  @Override
  public Optional<StoredSchedule> get(String name) {
    Objects.requireNonNull(name, "name");
    return db.read(
        "get schedule",
        d -> {
          PreparedStatement ps = d.prepare("SELECT body, version FROM schedules WHERE name = ?");
          ps.setString(1, name);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next()
                ? Optional.of(new StoredSchedule(name, rs.getString(1), rs.getLong(2)))
                : Optional.empty();
          }
        });
  }

  @Override
  public OptionalLong put(String name, String body, long expectedVersion) {
    requireName(name);
    Objects.requireNonNull(body, "body");
    OptionalLong written =
        db.tx(
            "put schedule",
            d -> {
              PreparedStatement cur = d.prepare("SELECT version FROM schedules WHERE name = ?");
              cur.setString(1, name);
              long current;
              try (ResultSet rs = cur.executeQuery()) {
                current = rs.next() ? rs.getLong(1) : 0;
              }
              if (current != expectedVersion) {
                return OptionalLong.empty();
              }
              long version = nextSeq(d);
              PreparedStatement ps =
                  d.prepare(
                      "INSERT INTO schedules (name, body, version) VALUES (?, ?, ?)"
                          + " ON CONFLICT (name) DO UPDATE"
                          + " SET body = excluded.body, version = excluded.version");
              ps.setString(1, name);
              ps.setString(2, body);
              ps.setLong(3, version);
              ps.executeUpdate();
              return OptionalLong.of(version);
            });
    if (written.isPresent()) {
      signalLocalWrite();
    }
    return written;
  }

  @Override
  public boolean delete(String name, long expectedVersion) {
    Objects.requireNonNull(name, "name");
    boolean deleted =
        db.tx(
            "delete schedule",
            d -> {
              PreparedStatement ps =
                  d.prepare("DELETE FROM schedules WHERE name = ?1 AND (?2 = 0 OR version = ?2)");
              ps.setString(1, name);
              ps.setLong(2, expectedVersion);
              if (ps.executeUpdate() != 1) {
                return false;
              }
              nextSeq(d);
              return true;
            });
    if (deleted) {
      signalLocalWrite();
    }
    return deleted;
  }

  private static long nextSeq(Db d) throws SQLException {
    try (ResultSet rs =
        d.prepare("UPDATE schedule_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("the schedule_seq row is missing");
      }
      return rs.getLong(1);
    }
  }

  @Override
  public long changes() {
    return db.read(
        "read schedule changes",
        d -> {
          try (ResultSet rs =
              d.prepare("SELECT seq FROM schedule_seq WHERE id = 1").executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0L;
          }
        });
  }

  @Override
  public long awaitChange(long seen, Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    long start = System.nanoTime();
    long budget = timeout.compareTo(FOREVER) >= 0 ? Long.MAX_VALUE : timeout.toNanos();
    long poll = MIN_POLL_NANOS;
    while (true) {
      // Noted before reading the counter, so that a local write landing in between is not
      // slept through.
      long writesBefore = localWrites;
      long now = changes();
      long remaining = budget - (System.nanoTime() - start);
      if (now != seen || remaining <= 0) {
        return now;
      }
      waitLock.lockInterruptibly();
      try {
        if (localWrites == writesBefore) {
          changed.awaitNanos(Math.min(remaining, poll));
        }
      } finally {
        waitLock.unlock();
      }
      poll = Math.min(poll * 2, MAX_POLL.toNanos());
    }
  }

  private void signalLocalWrite() {
    waitLock.lock();
    try {
      localWrites++;
      changed.signalAll();
    } finally {
      waitLock.unlock();
    }
  }

  @Override
  public boolean lead(String group, String candidate, Duration ttl) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(candidate, "candidate");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    long now = clock.millis();
    long expires = saturatedAdd(now, ttl);
    return db.tx(
        "lead",
        d -> {
          // Zero rows changed means another candidate holds a live lease.
          PreparedStatement ps =
              d.prepare(
                  "INSERT INTO leases (grp, holder, expires_at) VALUES (?1, ?2, ?3)"
                      + " ON CONFLICT (grp) DO UPDATE"
                      + " SET holder = excluded.holder, expires_at = excluded.expires_at"
                      + " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4");
          ps.setString(1, group);
          ps.setString(2, candidate);
          ps.setLong(3, expires);
          ps.setLong(4, now);
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public void resign(String group, String candidate) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(candidate, "candidate");
    db.tx(
        "resign",
        d -> {
          PreparedStatement ps = d.prepare("DELETE FROM leases WHERE grp = ? AND holder = ?");
          ps.setString(1, group);
          ps.setString(2, candidate);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<Lease> leader(String group) {
    Objects.requireNonNull(group, "group");
    long now = clock.millis();
    return db.read(
        "leader",
        d -> {
          PreparedStatement ps =
              d.prepare("SELECT holder, expires_at FROM leases WHERE grp = ? AND expires_at > ?");
          ps.setString(1, group);
          ps.setLong(2, now);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next()
                ? Optional.of(new Lease(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2))))
                : Optional.empty();
          }
        });
  }

  private static void requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("schedule name must not be blank");
    }
  }

  // A lease of centuries means forever: saturate rather than overflow.
  private static long saturatedAdd(long millis, Duration d) {
    try {
      return Math.addExact(millis, d.toMillis());
    } catch (ArithmeticException overflow) {
      return Long.MAX_VALUE;
    }
  }
}
