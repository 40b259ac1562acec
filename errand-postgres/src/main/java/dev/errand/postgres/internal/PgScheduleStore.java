package dev.errand.postgres.internal;

import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
 * Schedules and leader leases in PostgreSQL ({@code schedules}, {@code schedule_seq}, {@code
 * leases}).
 *
 * <p>Every schedule write and delete first locks the one {@code schedule_seq} row ({@code FOR
 * UPDATE}), then checks and writes in one statement that also raises the counter only if the write
 * happened. So writers of any number of processes are serialised as SQLite serialises them: two
 * compare-and-sets never both pass the same check, a version is never given out twice (nor reused
 * after a delete), and a refused write changes nothing. Reads take no lock.
 *
 * <p>A leader lease is taken or renewed by one {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE}
 * statement whose deadlines are computed from the database's clock ({@code {now}}), never this
 * process's: of two candidates racing, PostgreSQL lets exactly one insert or update the row, and a
 * scheduler whose clock runs ahead cannot take a lease early.
 *
 * <p>{@link #awaitChange} is ended at once by a write in this process and sees those of other
 * processes by polling the counter, backing off to {@link #MAX_POLL}.
 */
public final class PgScheduleStore implements ScheduleStore {

  /** The longest a waiter goes between two looks for changes made by other processes. */
  public static final Duration MAX_POLL = Duration.ofMillis(100);

  private static final long MIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final Duration FOREVER = Duration.ofNanos(Long.MAX_VALUE);

  private static final String LOCK_SEQ = "SELECT seq FROM {s}.schedule_seq WHERE id = 1 FOR UPDATE";

  // With schedule_seq locked (seq = ?1 - 1): each writes the schedule and raises the counter to
  // its new version in one statement, or does neither. The update count says which.
  private static final String CREATE =
      """
      WITH w AS (
        INSERT INTO {s}.schedules (name, body, version) VALUES (?, ?, ?)
        ON CONFLICT (name) DO NOTHING RETURNING version)
      UPDATE {s}.schedule_seq SET seq = w.version FROM w WHERE id = 1""";
  private static final String REPLACE =
      """
      WITH w AS (
        UPDATE {s}.schedules SET body = ?, version = ? WHERE name = ? AND version = ?
        RETURNING version)
      UPDATE {s}.schedule_seq SET seq = w.version FROM w WHERE id = 1""";
  private static final String DELETE =
      """
      WITH w AS (
        DELETE FROM {s}.schedules WHERE name = ? AND (? = 0 OR version = ?) RETURNING name)
      UPDATE {s}.schedule_seq SET seq = seq + 1 WHERE id = 1 AND EXISTS (SELECT FROM w)""";

  // Takes the lease if it is free, expired by the database's clock, or already the candidate's.
  // Of concurrent candidates one inserts or updates the row; the others find it locked, wait, and
  // then re-check the WHERE against the winner's row: zero rows for them.
  private static final String LEAD =
      """
      INSERT INTO {s}.leases (grp, holder, expires_at)
      VALUES (?, ?, LEAST({now}::numeric + ?, 9223372036854775807)::bigint)
      ON CONFLICT (grp) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE leases.holder = excluded.holder OR leases.expires_at <= {now}""";

  private final Pg pg;
  private final ReentrantLock waitLock = new ReentrantLock();
  private final Condition changed = waitLock.newCondition();
  private volatile long localWrites; // raised under waitLock

  public PgScheduleStore(Pg pg) {
    this.pg = Objects.requireNonNull(pg, "pg");
  }

  @Override
  public List<StoredSchedule> list() {
    List<StoredSchedule> out =
        pg.read(
            "list schedules",
            t -> {
              List<StoredSchedule> all = new ArrayList<>();
              try (ResultSet rs =
                  t.prepare("SELECT name, body, version FROM {s}.schedules").executeQuery()) {
                while (rs.next()) {
                  all.add(new StoredSchedule(rs.getString(1), rs.getString(2), rs.getLong(3)));
                }
              }
              return all;
            });
    // Sorted here, not by ORDER BY: the database's collation is not String order (nor is "C"
    // past U+FFFF); callers expect String order, as the memory store gives.
    out.sort(Comparator.comparing(StoredSchedule::name));
    return out;
  }

  @Override
  public Optional<StoredSchedule> get(String name) {
    Objects.requireNonNull(name, "name");
    return pg.read(
        "get schedule",
        t -> {
          PreparedStatement ps =
              t.prepare("SELECT body, version FROM {s}.schedules WHERE name = ?");
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
        pg.tx(
            "put schedule",
            t -> {
              if (expectedVersion < 0) {
                return OptionalLong.empty(); // no stored version is negative
              }
              long version = lockSeq(t) + 1;
              PreparedStatement ps;
              if (expectedVersion == 0) {
                ps = t.prepare(CREATE);
                ps.setString(1, name);
                ps.setString(2, body);
                ps.setLong(3, version);
              } else {
                ps = t.prepare(REPLACE);
                ps.setString(1, body);
                ps.setLong(2, version);
                ps.setString(3, name);
                ps.setLong(4, expectedVersion);
              }
              return ps.executeUpdate() == 1 ? OptionalLong.of(version) : OptionalLong.empty();
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
        pg.tx(
            "delete schedule",
            t -> {
              lockSeq(t);
              PreparedStatement ps = t.prepare(DELETE);
              ps.setString(1, name);
              ps.setLong(2, expectedVersion);
              ps.setLong(3, expectedVersion);
              return ps.executeUpdate() == 1;
            });
    if (deleted) {
      signalLocalWrite();
    }
    return deleted;
  }

  /** Locks the counter row until the transaction ends; returns the last version given out. */
  private static long lockSeq(Pg.Tx t) throws SQLException {
    try (ResultSet rs = t.prepare(LOCK_SEQ).executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("the schedule_seq row is missing");
      }
      return rs.getLong(1);
    }
  }

  @Override
  public long changes() {
    return pg.read(
        "read schedule changes",
        t -> {
          try (ResultSet rs =
              t.prepare("SELECT seq FROM {s}.schedule_seq WHERE id = 1").executeQuery()) {
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
    long ttlMillis = saturatedMillis(ttl);
    return pg.read(
        "lead",
        t -> {
          PreparedStatement ps = t.prepare(LEAD);
          ps.setString(1, group);
          ps.setString(2, candidate);
          ps.setLong(3, ttlMillis);
          return ps.executeUpdate() == 1;
        });
  }

  @Override
  public void resign(String group, String candidate) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(candidate, "candidate");
    pg.read(
        "resign",
        t -> {
          PreparedStatement ps = t.prepare("DELETE FROM {s}.leases WHERE grp = ? AND holder = ?");
          ps.setString(1, group);
          ps.setString(2, candidate);
          return ps.executeUpdate();
        });
  }

  @Override
  public Optional<Lease> leader(String group) {
    Objects.requireNonNull(group, "group");
    return pg.read(
        "leader",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "SELECT holder, expires_at FROM {s}.leases WHERE grp = ? AND expires_at > {now}");
          ps.setString(1, group);
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
  private static long saturatedMillis(Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException overflow) {
      return Long.MAX_VALUE;
    }
  }
}
