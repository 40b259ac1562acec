package dev.errand.postgres.internal;

import dev.errand.TaskStatus;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import dev.errand.wire.Wire;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The search and count queries of {@link PgResultStore}. A query's SQL holds only the filters it
 * gives, so a single filter meets the index that leads with its column and goes on with {@code
 * (updated_at, id)} ({@code results_state}, {@code results_name}, {@code results_queue}, {@code
 * results_parent}, or {@code results_updated} with none): PostgreSQL walks it backwards from the
 * cursor (a row comparison, {@code (updated_at, id) < (?, ?)}, which a B-tree starts a range at)
 * and stops after {@code limit + 1} rows, without sorting. With several filters the planner picks
 * one such index and checks the others on each row.
 *
 * <p>The tie-breaker {@code id} is compared with the {@code "C"} collation (byte order, which is
 * code point order: the order of the other backends), as the indexes hold it, whatever the
 * database's default collation is.
 *
 * <p>Expiry is checked against {@code {now}}, the database's time: an expired status is never
 * returned nor counted, even before the janitor deletes it.
 */
final class PgResultSearch {

  /** The tie-breaking column as the search indexes order it. */
  static final String ID_C = "id COLLATE \"C\"";

  private PgResultSearch() {}

  /** A statement's text and its parameters, in order. */
  record Sql(String text, List<Object> args) {

    PreparedStatement prepare(Pg.Tx t) throws SQLException {
      PreparedStatement ps = t.prepare(text);
      for (int i = 0; i < args.size(); i++) {
        Object a = args.get(i);
        if (a instanceof Long l) {
          ps.setLong(i + 1, l);
        } else if (a instanceof Integer n) {
          ps.setInt(i + 1, n);
        } else {
          ps.setString(i + 1, (String) a);
        }
      }
      return ps;
    }
  }

  static TaskPage search(Pg.Tx t, TaskQuery query) throws SQLException {
    List<TaskStatus> tasks = new ArrayList<>();
    long lastMillis = 0;
    String lastId = null;
    boolean more = false;
    try (ResultSet rs = searchSql(query).prepare(t).executeQuery()) {
      while (rs.next()) {
        if (tasks.size() == query.limit()) {
          more = true;
          break;
        }
        tasks.add(Wire.decodeStatus(rs.getBytes(1)));
        lastMillis = rs.getLong(2);
        lastId = rs.getString(3);
      }
    }
    // The cursor comes from the columns, not the decoded body: they are what the order is on.
    return new TaskPage(tasks, more ? new TaskQuery.Cursor(lastMillis, lastId).toString() : null);
  }

  static long count(Pg.Tx t, TaskQuery query) throws SQLException {
    try (ResultSet rs = countSql(query).prepare(t).executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  static long[] countByTime(Pg.Tx t, TaskQuery query, TimeBuckets buckets) throws SQLException {
    long[] counts = new long[buckets.count()];
    Sql sql = countByTimeSql(query, buckets);
    if (sql == null) {
      return counts;
    }
    try (ResultSet rs = sql.prepare(t).executeQuery()) {
      while (rs.next()) {
        counts[(int) rs.getLong(1)] = rs.getLong(2);
      }
    }
    return counts;
  }

  /**
   * One statement, so both parts read one snapshot and one {@code {now}}. The first part counts the
   * range of the index of the query's filter (or of {@code results_updated} with none) that the
   * buckets cover, grouped by bucket: with a single filter the index covers it (an index-only scan
   * where the pages are all-visible). From these are taken those that expired but are not deleted
   * yet, found on the expiry index (the janitor deletes them: few rows, each read once). Checking
   * the expiry of every status counted instead would read each row. Null if the query's own time
   * range misses the buckets.
   */
  static Sql countByTimeSql(TaskQuery query, TimeBuckets buckets) {
    long from = buckets.startMillis();
    long to = buckets.endMillis();
    if (query.from() != null) {
      from = Math.max(from, millis(query.from()));
    }
    if (query.to() != null) {
      to = Math.min(to, millis(query.to()));
    }
    if (from >= to) {
      return null;
    }
    long start = buckets.startMillis();
    long step = buckets.stepMillis();
    TaskQuery unbounded = query.toBuilder().from(null).to(null).build();
    List<Object> args = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT b, sum(n) FROM (");
    sql.append("SELECT (updated_at - ?::bigint) / ?::bigint AS b, count(*) AS n FROM {s}.results")
        .append(" WHERE true");
    args.add(start);
    args.add(step);
    filters(unbounded, sql, args);
    sql.append(" AND updated_at >= ? AND updated_at < ? GROUP BY 1 UNION ALL ");
    args.add(from);
    args.add(to);
    sql.append("SELECT (updated_at - ?::bigint) / ?::bigint AS b, -count(*) AS n FROM {s}.results")
        .append(" WHERE expires_at <= {now}");
    args.add(start);
    args.add(step);
    filters(unbounded, sql, args);
    sql.append(" AND updated_at >= ? AND updated_at < ? GROUP BY 1) c GROUP BY b");
    args.add(from);
    args.add(to);
    return new Sql(sql.toString(), args);
  }

  static Sql searchSql(TaskQuery query) {
    StringBuilder sql =
        new StringBuilder("SELECT body, updated_at, id FROM {s}.results WHERE expires_at > {now}");
    List<Object> args = new ArrayList<>();
    TaskQuery.Cursor after = query.after() == null ? null : TaskQuery.Cursor.parse(query.after());
    // The range starts at one upper bound: the tighter of the cursor and "to" (a B-tree starts a
    // scan at one bound of a column; with both it might start at the looser and skip the rest).
    boolean cursorBound =
        after != null && (query.to() == null || after.millis() < millis(query.to()));
    filters(query.toBuilder().to(cursorBound ? null : query.to()).build(), sql, args);
    if (cursorBound) {
      // Every status before the cursor was updated at or before its time, so before "to" too.
      sql.append(" AND (updated_at, ").append(ID_C).append(") < (?, ?)");
      args.add(after.millis());
      args.add(after.id());
    }
    sql.append(" ORDER BY updated_at DESC, ").append(ID_C).append(" DESC LIMIT ?");
    // One row more than the page tells whether there is a next one.
    args.add(query.limit() + 1);
    return new Sql(sql.toString(), args);
  }

  static Sql countSql(TaskQuery query) {
    StringBuilder sql =
        new StringBuilder("SELECT count(*) FROM {s}.results WHERE expires_at > {now}");
    List<Object> args = new ArrayList<>();
    filters(query, sql, args);
    return new Sql(sql.toString(), args);
  }

  private static void filters(TaskQuery query, StringBuilder sql, List<Object> args) {
    equal(sql, args, "name", query.name());
    equal(sql, args, "state", query.state() == null ? null : query.state().name());
    equal(sql, args, "queue", query.queue());
    equal(sql, args, "parent_id", query.parentId());
    if (query.from() != null) {
      sql.append(" AND updated_at >= ?");
      args.add(millis(query.from()));
    }
    if (query.to() != null) {
      sql.append(" AND updated_at < ?");
      args.add(millis(query.to()));
    }
  }

  private static void equal(StringBuilder sql, List<Object> args, String column, String value) {
    if (value != null) {
      sql.append(" AND ").append(column).append(" = ?");
      args.add(value);
    }
  }

  /**
   * Epoch milliseconds, saturated: a bound like {@code Instant.MAX} means "no bound", not error.
   */
  private static long millis(Instant t) {
    try {
      return t.toEpochMilli();
    } catch (ArithmeticException e) {
      return t.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
