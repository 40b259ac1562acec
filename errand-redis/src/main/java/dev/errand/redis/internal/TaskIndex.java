package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.number;
import static dev.errand.redis.internal.RedisBroker.text;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The indexes that make stored statuses searchable: under one hash tag ({@code PREFIX:{tasks}:}), a
 * sorted set of task ids per state, name, queue and parent, each scored by update time in
 * milliseconds (a reverse range is then newest first, ties by id descending: the search order), a
 * hash of each id's indexed fields (so a state change leaves the old state's set, and searches
 * check the other filters without reading statuses) and a sorted set of ids by expiry. There is no
 * set of all ids: the state sets together are one, merged by the search script when no filter is
 * given, so each write updates one sorted set fewer.
 *
 * <p>The statuses themselves live under per-task keys spread over Cluster slots, so the index is
 * written by a script of its own, one call per batch of statuses, sent in the same channel write as
 * the statuses. Expired ids are trimmed in bounded steps: a few more than each batch adds on every
 * write (so the index keeps pace with a steady load) and all of them, a thousand per call, before a
 * search or count. Every time comes from the backend's clock. Thread-safe.
 */
final class TaskIndex {

  /** Expired ids a write trims beyond as many as it indexes, so a backlog shrinks. */
  static final int WRITE_TRIM_EXTRA = 64;

  /** Expired ids one trim call removes: bounds how long it holds Redis (a few ms). */
  private static final int TRIM_STEP = 1000;

  /**
   * Ids one search call examines at most: a few milliseconds of Redis time (checking an id against
   * the filters costs 1 to 4 us), so a search that must skip many ids never holds Redis long.
   */
  private static final int WALK_BUDGET = 2000;

  private static final byte[] EMPTY = new byte[0];

  private final Redis redis;
  private final Keys keys;
  private final Clock clock;
  private final String[] indexKeys;
  private final byte[] prefix;

  TaskIndex(Redis redis, Keys keys, Clock clock) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.indexKeys = new String[] {keys.taskIndexMeta(), keys.taskIndexExpiry()};
    this.prefix = bytes(keys.taskIndexPrefix());
  }

  /**
   * Adds the index update for {@code statuses} (all stored until {@code expiresAt}) to {@code
   * batch}: one script call, which also trims a bounded number of expired ids.
   */
  CompletableFuture<Long> send(Batch batch, List<TaskStatus> statuses, long expiresAt, long now) {
    statuses = lastOfEach(statuses);
    byte[][] args = new byte[3 + statuses.size() * 3][];
    args[0] = prefix;
    args[1] = num(now);
    args[2] = num(statuses.size() + WRITE_TRIM_EXTRA);
    int i = 3;
    for (TaskStatus s : statuses) {
      args[i++] = bytes(s.id());
      args[i++] = num(TaskQuery.Cursor.millis(s));
      args[i++] = meta(s, expiresAt);
    }
    return Script.TASKS_INDEX.runInteger(batch, indexKeys, args);
  }

  /** The statuses with each id once, at its last occurrence (the one whose SET wins). */
  private static List<TaskStatus> lastOfEach(List<TaskStatus> statuses) {
    if (statuses.size() < 2) {
      return statuses;
    }
    Set<String> ids = new HashSet<>(statuses.size() * 2);
    for (TaskStatus s : statuses) {
      if (!ids.add(s.id())) {
        Map<String, TaskStatus> last = new LinkedHashMap<>(statuses.size() * 2);
        for (TaskStatus t : statuses) {
          last.put(t.id(), t);
        }
        return new ArrayList<>(last.values());
      }
    }
    return statuses;
  }

  /** {@code expiresAt\0state\0name\0queue\0parent}, as the scripts read it. */
  static byte[] meta(TaskStatus s, long expiresAt) {
    StringBuilder b = new StringBuilder(96);
    b.append(expiresAt).append('\0').append(s.state().name()).append('\0');
    field(b, s.name()).append('\0');
    field(b, s.queue()).append('\0');
    field(b, s.parentId());
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  // A value holding the separator cannot be indexed; it is left out (found by no filter on it).
  private static StringBuilder field(StringBuilder b, String value) {
    return value == null || value.indexOf('\0') >= 0 ? b : b.append(value);
  }

  /** See {@link dev.errand.spi.ResultStore#search}. */
  TaskPage search(TaskQuery query) {
    long now = clock.millis();
    trimExpired(now);
    TaskQuery.Cursor position =
        query.after() == null ? null : TaskQuery.Cursor.parse(query.after());
    List<Found> found = new ArrayList<>(query.limit() + 1);
    Set<String> seen = new HashSet<>();
    while (true) {
      Walk walk = walk(query, now, position, query.limit() + 1 - found.size());
      fetch(query, now, walk, found, seen);
      if (found.size() > query.limit() || walk.done() || walk.last() == null) {
        break;
      }
      position = walk.last();
    }
    List<TaskStatus> page = new ArrayList<>(Math.min(found.size(), query.limit()));
    for (int i = 0; i < found.size() && i < query.limit(); i++) {
      page.add(found.get(i).status());
    }
    String next =
        found.size() > query.limit() ? found.get(query.limit() - 1).at().toString() : null;
    return new TaskPage(page, next);
  }

  /** See {@link dev.errand.spi.ResultStore#count}. */
  long count(TaskQuery query) {
    long now = clock.millis();
    trimExpired(now);
    List<String> sets = filterSets(query);
    if (sets.size() <= 1) {
      // Every id of one set matches (the state sets together hold every id): count the sets.
      List<CompletableFuture<Long>> counts = new ArrayList<>();
      for (String key : sets.isEmpty() ? stateSets() : sets) {
        counts.add(
            query.from() == null && query.to() == null
                ? redis.async().zcard(key).toCompletableFuture()
                : redis.async().zcount(key, range(query)).toCompletableFuture());
      }
      long total = 0;
      for (CompletableFuture<Long> c : counts) {
        total += redis.await(c, "count tasks");
      }
      return total;
    }
    long total = 0;
    TaskQuery.Cursor position = null;
    while (true) {
      Walk walk = walk(query, now, position, 0);
      total += walk.count();
      if (walk.done() || walk.last() == null) {
        return total;
      }
      position = walk.last();
    }
  }

  /**
   * See {@link dev.errand.spi.ResultStore#countByTime}. With one filter (or none), every id of its
   * set (or of the state sets) matches once the expired ones are trimmed, so each bucket is a
   * {@code ZCOUNT} of the set, all sent in one pipelined write; with several, one walk of the
   * smallest set over the buckets' time range, counted per bucket by the search script.
   */
  long[] countByTime(TaskQuery query, TimeBuckets buckets) {
    long[] counts = new long[buckets.count()];
    long from = buckets.startMillis();
    long to = buckets.endMillis();
    if (query.from() != null) {
      from = Math.max(from, query.from().toEpochMilli());
    }
    if (query.to() != null) {
      to = Math.min(to, query.to().toEpochMilli());
    }
    if (from >= to) {
      return counts;
    }
    long now = clock.millis();
    trimExpired(now);
    List<String> sets = filterSets(query);
    if (sets.size() <= 1) {
      List<String> keys = sets.isEmpty() ? stateSets() : sets;
      Batch batch = redis.batch(keys.size() * buckets.count());
      List<CompletableFuture<Long>> replies = new ArrayList<>(keys.size() * buckets.count());
      List<Integer> bucketOf = new ArrayList<>(keys.size() * buckets.count());
      for (String key : keys) {
        for (int i = 0; i < buckets.count(); i++) {
          long lo = Math.max(from, buckets.startMillis() + buckets.stepMillis() * i);
          long hi = Math.min(to, buckets.startMillis() + buckets.stepMillis() * (i + 1));
          if (lo < hi) {
            replies.add(batch.zcount(key, lo, hi));
            bucketOf.add(i);
          }
        }
      }
      batch.send();
      for (int i = 0; i < replies.size(); i++) {
        counts[bucketOf.get(i)] += redis.await(replies.get(i), "count tasks by time");
      }
      return counts;
    }
    TaskQuery bounded =
        query.toBuilder().from(Instant.ofEpochMilli(from)).to(Instant.ofEpochMilli(to)).build();
    TaskQuery.Cursor position = null;
    while (true) {
      Walk walk = walk(bounded, now, position, 0, buckets);
      for (int i = 0; i < counts.length; i++) {
        counts[i] += walk.perBucket()[i];
      }
      if (walk.done() || walk.last() == null) {
        return counts;
      }
      position = walk.last();
    }
  }

  /** Removes every id that expired by {@code now} from the indexes, a bounded step per call. */
  private void trimExpired(long now) {
    long removed;
    do {
      removed =
          redis.await(
              Script.TASKS_TRIM.<Long>run(
                  redis.async(),
                  ScriptOutputType.INTEGER,
                  indexKeys,
                  prefix,
                  num(now),
                  num(TRIM_STEP)),
              "trim the task index");
    } while (removed >= TRIM_STEP);
  }

  /** One search script call: up to {@code want} matching ids after {@code position}. */
  private Walk walk(TaskQuery query, long now, TaskQuery.Cursor position, int want) {
    return walk(query, now, position, want, null);
  }

  /**
   * One search script call: up to {@code want} matching ids after {@code position}; with {@code
   * want} 0 and {@code buckets}, also how many matched in each bucket ({@link Walk#ids} empty).
   */
  private Walk walk(
      TaskQuery query, long now, TaskQuery.Cursor position, int want, TimeBuckets buckets) {
    List<String> sets = filterSets(query);
    boolean merge = sets.isEmpty();
    List<String> walkKeys = new ArrayList<>(9);
    walkKeys.add(keys.taskIndexMeta());
    walkKeys.addAll(merge ? stateSets() : sets);
    List<byte[]> args = new ArrayList<>(16);
    args.add(num(now));
    args.add(position == null ? EMPTY : num(position.millis()));
    args.add(position == null ? EMPTY : bytes(position.id()));
    args.add(query.from() == null ? EMPTY : num(query.from().toEpochMilli()));
    args.add(query.to() == null ? EMPTY : num(query.to().toEpochMilli()));
    args.add(num(want));
    args.add(num(WALK_BUDGET));
    args.add(num(merge ? 1 : 0));
    args.add(buckets == null ? EMPTY : num(buckets.startMillis()));
    args.add(buckets == null ? EMPTY : num(buckets.stepMillis()));
    args.add(buckets == null ? EMPTY : num(buckets.count()));
    filterArg(args, 2, query.state() == null ? null : query.state().name());
    filterArg(args, 3, query.name());
    filterArg(args, 4, query.queue());
    filterArg(args, 5, query.parentId());
    List<Object> reply =
        redis.await(
            Script.TASKS_SEARCH.run(
                redis.async(),
                ScriptOutputType.MULTI,
                walkKeys.toArray(new String[0]),
                args.toArray(new byte[0][])),
            "search tasks");
    @SuppressWarnings("unchecked")
    List<Object> flat = (List<Object>) reply.get(1);
    List<String> ids = new ArrayList<>(flat.size() / 2);
    List<TaskQuery.Cursor> at = new ArrayList<>(flat.size() / 2);
    long[] perBucket = null;
    if (buckets != null && want == 0) {
      perBucket = new long[flat.size()];
      for (int i = 0; i < flat.size(); i++) {
        perBucket[i] = number(flat.get(i));
      }
    } else {
      for (int i = 0; i < flat.size(); i += 2) {
        String id = text(flat.get(i));
        ids.add(id);
        at.add(new TaskQuery.Cursor(millis(flat.get(i + 1)), id));
      }
    }
    String lastTime = text(reply.get(3));
    TaskQuery.Cursor last =
        lastTime.isEmpty() ? null : new TaskQuery.Cursor(millis(lastTime), text(reply.get(4)));
    return new Walk(number(reply.get(0)), ids, at, perBucket, number(reply.get(2)) == 1, last);
  }

  /**
   * Reads the statuses of a walk's ids (one pipelined write) and keeps those still stored that
   * match: an index entry can outlive its status by a moment (Redis expired it first), and between
   * two writers the index can briefly lag the status, which is then checked, not trusted.
   */
  private void fetch(TaskQuery query, long now, Walk walk, List<Found> found, Set<String> seen) {
    if (walk.ids().isEmpty()) {
      return;
    }
    Batch batch = redis.batch(walk.ids().size());
    List<CompletableFuture<byte[]>> values = new ArrayList<>(walk.ids().size());
    for (String id : walk.ids()) {
      values.add(batch.get(keys.result(id)));
    }
    batch.send();
    for (int i = 0; i < values.size(); i++) {
      byte[] value = redis.await(values.get(i), "read task status");
      if (value != null && Codec.expiresAt(value) > now) {
        TaskStatus s = Codec.decodeResult(value);
        // an id is in one state set, but a page never shows one twice even if it were in two
        if (query.matches(s) && seen.add(s.id())) {
          found.add(new Found(s, walk.at().get(i)));
        }
      }
    }
  }

  /** The set of each state: together, every indexed id. */
  private List<String> stateSets() {
    List<String> sets = new ArrayList<>(TaskState.values().length);
    for (TaskState s : TaskState.values()) {
      sets.add(keys.taskIndex("state", s.name()));
    }
    return sets;
  }

  /** The index sets of the query's filters. */
  private List<String> filterSets(TaskQuery query) {
    List<String> sets = new ArrayList<>(4);
    if (query.state() != null) {
      sets.add(keys.taskIndex("state", query.state().name()));
    }
    if (query.name() != null) {
      sets.add(keys.taskIndex("name", query.name()));
    }
    if (query.queue() != null) {
      sets.add(keys.taskIndex("queue", query.queue()));
    }
    if (query.parentId() != null) {
      sets.add(keys.taskIndex("parent", query.parentId()));
    }
    return sets;
  }

  private static void filterArg(List<byte[]> args, int field, String value) {
    if (value != null) {
      args.add(num(field));
      args.add(bytes(value));
    }
  }

  private static Range<Long> range(TaskQuery query) {
    return Range.from(
        query.from() == null
            ? Range.Boundary.unbounded()
            : Range.Boundary.including(query.from().toEpochMilli()),
        query.to() == null
            ? Range.Boundary.unbounded()
            : Range.Boundary.excluding(query.to().toEpochMilli()));
  }

  // Scores come back as Redis formats doubles; update times are whole milliseconds.
  private static long millis(Object score) {
    return (long) Double.parseDouble(text(score));
  }

  /**
   * What one search call found.
   *
   * @param count how many ids matched (all of them when counting)
   * @param ids the matching ids listed, newest first
   * @param at the position of each
   * @param perBucket the matches per time bucket when counting in buckets, else null
   * @param done whether the walk reached the end of the set or the time range
   * @param last the position of the last id examined, where the next call continues; null if none
   */
  private record Walk(
      long count,
      List<String> ids,
      List<TaskQuery.Cursor> at,
      long[] perBucket,
      boolean done,
      TaskQuery.Cursor last) {}

  /** A status found, at its index position (the cursor just after it). */
  private record Found(TaskStatus status, TaskQuery.Cursor at) {}
}
