package dev.errand.sqlite.internal;

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
 * The search and count queries of {@link SqliteResultStore}. A query's SQL holds only the filters
 * it gives, so a single filter meets the index that leads with its column and goes on with {@code
 * (updated_at, id)}: SQLite walks it backwards from the cursor and stops after {@code limit + 1}
 * rows, without sorting. With several filters SQLite picks one such index and checks the others on
 * each row. There are at most 2^7 statements (filters, bounds and cursor each present or not), each
 * prepared once and cached by {@link Db}. Call with the {@link Db} lock held.
 */
final class ResultSearch {

  private ResultSearch() {}

  /** A statement's text and its parameters, in order. */
  record Sql(String text, List<Object> args) {

    PreparedStatement prepare(Db d) throws SQLException {
      PreparedStatement ps = d.prepare(text);
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      return ps;
    }
  }

  static TaskPage search(Db d, TaskQuery query, long now) throws SQLException {
    List<TaskStatus> tasks = new ArrayList<>();
    long lastMillis = 0;
    String lastId = null;
    boolean more = false;
    try (ResultSet rs = searchSql(query, now).prepare(d).executeQuery()) {
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

  static long count(Db d, TaskQuery query, long now) throws SQLException {
    try (ResultSet rs = countSql(query, now).prepare(d).executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  static long[] countByTime(Db d, TaskQuery query, TimeBuckets buckets, long now)
      throws SQLException {
    long[] counts = new long[buckets.count()];
    Sql sql = countByTimeSql(query, buckets, now);
    if (sql == null) {
      return counts;
    }
    try (ResultSet rs = sql.prepare(d).executeQuery()) {
      while (rs.next()) {
        counts[rs.getInt(1)] = rs.getLong(2);
      }
    }
    return counts;
  }

  /**
   * One statement, so every part reads one snapshot. Each bucket is a count of one range of the
   * index of the query's filter (or of {@code results_updated} with none), which covers a single
   * filter: SQLite steps through the index entries and reads no row. (A {@code GROUP BY} of the
   * bucket would sort every status counted first: four times slower at 500,000.) From these are
   * taken those that expired but are not deleted yet, found on the expiry index (the janitor
   * deletes them every 30 s: few rows, each read once). Checking the expiry of every status instead
   * would read each row, 1-2 µs per status counted. Null if the query's own time range misses the
   * buckets.
   */
  static Sql countByTimeSql(TaskQuery query, TimeBuckets buckets, long now) {
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
    StringBuilder sql =
        new StringBuilder("WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b")
            .append(" WHERE i < ?) SELECT bucket, SUM(n) FROM (")
            .append("SELECT i AS bucket, (SELECT COUNT(*) FROM results WHERE 1");
    args.add(buckets.count() - 1);
    filters(unbounded, sql, args, true);
    sql.append(" AND updated_at >= MAX(?, ? + i * ?) AND updated_at < MIN(?, ? + (i + 1) * ?))");
    sql.append(" AS n FROM b UNION ALL ");
    args.addAll(List.of(from, start, step, to, start, step));
    sql.append("SELECT (updated_at - ?) / ? AS bucket, -COUNT(*) AS n");
    sql.append(" FROM results INDEXED BY results_expiry WHERE expires_at <= ?");
    args.addAll(List.of(start, step, now));
    filters(unbounded, sql, args, true);
    sql.append(" AND updated_at >= ? AND updated_at < ? GROUP BY bucket) GROUP BY bucket");
    args.addAll(List.of(from, to));
    return new Sql(sql.toString(), args);
  }

  static Sql searchSql(TaskQuery query, long now) {
    // The unary + keeps SQLite off the expiry index for this term: walking results_expiry would
    // mean reading every live row and sorting them, where the search indexes read one page.
    StringBuilder sql =
        new StringBuilder("SELECT body, updated_at, id FROM results WHERE +expires_at > ?");
    List<Object> args = new ArrayList<>();
    args.add(now);
    TaskQuery.Cursor after = query.after() == null ? null : TaskQuery.Cursor.parse(query.after());
    filters(query, sql, args, after == null);
    if (after != null) {
      // The first term is implied by the rest; it is there so that SQLite starts the index range
      // at the cursor instead of walking from the newest row to it. It also stands for the "to"
      // bound, left out above: SQLite starts a range at one upper bound only, so it must be the
      // tighter one. (The max keeps "- 1" from wrapping round.)
      long upper = after.millis();
      if (query.to() != null) {
        upper = Math.min(upper, Math.max(millis(query.to()), Long.MIN_VALUE + 1) - 1);
      }
      sql.append(" AND updated_at <= ? AND (updated_at < ? OR (updated_at = ? AND id < ?))");
      args.add(upper);
      args.add(after.millis());
      args.add(after.millis());
      args.add(after.id());
    }
    sql.append(" ORDER BY updated_at DESC, id DESC LIMIT ?");
    // One row more than the page tells whether there is a next one.
    args.add(query.limit() + 1);
    return new Sql(sql.toString(), args);
  }

  static Sql countSql(TaskQuery query, long now) {
    // Here the expiry index may serve: without filters, counting it is the cheapest scan.
    StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM results WHERE expires_at > ?");
    List<Object> args = new ArrayList<>();
    args.add(now);
    filters(query, sql, args, true);
    return new Sql(sql.toString(), args);
  }

  private static void filters(
      TaskQuery query, StringBuilder sql, List<Object> args, boolean withTo) {
    equal(sql, args, "name", query.name());
    equal(sql, args, "state", query.state() == null ? null : query.state().name());
    equal(sql, args, "queue", query.queue());
    equal(sql, args, "parent_id", query.parentId());
    if (query.from() != null) {
      sql.append(" AND updated_at >= ?");
      args.add(millis(query.from()));
    }
    if (query.to() != null && withTo) {
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
