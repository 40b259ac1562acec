package dev.errand.cli.internal.bench;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.cli.internal.bench.SearchBenchResult.ChartFigures;
import dev.errand.cli.internal.bench.SearchBenchResult.FilterFigures;
import dev.errand.cli.internal.bench.SearchBenchResult.Timing;
import dev.errand.spi.ResultStore;
import dev.errand.spi.TaskPage;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.TimeBuckets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;

/**
 * The harness behind {@code errand bench-search}: stores generated task statuses through {@link
 * ResultStore#putAll} (the {@link StatusMix}), then times {@link ResultStore#search} and {@link
 * ResultStore#count} for each filter, and the dashboard overview's charts (a count per bucket
 * against {@link ResultStore#countByTime}), on any backend. It checks what it reads (page sizes,
 * filters, order, counts against the rows it stored) and fails on a wrong answer, so a fast wrong
 * backend cannot pass. Not thread-safe, except {@link #stop()}.
 */
public final class SearchBench {

  /** Statuses stored unless told otherwise: {@value}. */
  public static final int DEFAULT_ROWS = 1_000_000;

  /** Statuses per {@code putAll} unless told otherwise: {@value}. */
  public static final int DEFAULT_BATCH = 1000;

  /** Runs of each timed call unless told otherwise: {@value}. */
  public static final int DEFAULT_REPEAT = 7;

  /** Matches before the deep page unless told otherwise: {@value}. */
  public static final int DEFAULT_DEPTH = 10_000;

  /** Statuses in a timed page: {@value}, the default page of the dashboard and of the SPI. */
  public static final int PAGE = TaskQuery.DEFAULT_LIMIT;

  /**
   * How long the statuses are kept: long enough for any run; the bench then moves its clock past it
   * to time the first count after everything expired.
   */
  public static final Duration TTL = Duration.ofDays(1);

  /**
   * Settings of one run.
   *
   * @param rows statuses to store, > 0
   * @param batch statuses per {@code putAll}, > 0
   * @param repeat runs of each timed call, > 0
   * @param depth matches before the deep page, >= 0 (fewer where a filter has fewer matches)
   */
  public record Settings(int rows, int batch, int repeat, int depth) {}

  /** Told how storing goes: after each tenth of the rows. */
  public interface Progress {
    /** {@code stored} of {@code total} statuses are stored, {@code nanos} after the first. */
    void stored(int stored, int total, long nanos);
  }

  private final ResultStore results;
  private final ShiftedClock clock;
  private final Settings settings;
  private final StatusMix mix;
  private final List<StatusMix.Filter> filters;
  private final long[] expected;
  private final List<Chart> charts;
  private volatile boolean stopped;

  /**
   * A chart of the dashboard's overview: succeeded and failed tasks per time bucket, and how many
   * of the stored rows fall in each bucket.
   */
  private record Chart(String range, TimeBuckets buckets, long[] succeeded, long[] failed) {
    Chart(String range, TimeBuckets buckets) {
      this(range, buckets, new long[buckets.count()], new long[buckets.count()]);
    }
  }

  /**
   * A bench over {@code results}, whose backend runs on {@code clock}; the rows are generated from
   * the clock's current time.
   */
  public SearchBench(ResultStore results, ShiftedClock clock, Settings settings) {
    this.results = results;
    this.clock = clock;
    this.settings = settings;
    this.mix = new StatusMix(settings.rows(), clock.instant());
    this.filters = mix.filters();
    this.expected = new long[filters.size()];
    // The dashboard's two ranges, ending when the rows were made (the newest a minute before).
    Instant now = clock.instant();
    this.charts =
        List.of(
            new Chart("hour", TimeBuckets.ending(now, Duration.ofHours(1), Duration.ofMinutes(1))),
            new Chart("day", TimeBuckets.ending(now, Duration.ofDays(1), Duration.ofMinutes(15))));
  }

  /** Makes the run end at its next step with a {@link CancellationException} (Ctrl-C). */
  public void stop() {
    stopped = true;
  }

  /** Stores every row in batches; returns how long it took, in nanoseconds. */
  public long fill(Progress progress) {
    int rows = settings.rows();
    List<TaskStatus> batch = new ArrayList<>(settings.batch());
    int reported = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < rows; i++) {
      TaskStatus s = mix.status(i);
      for (int f = 0; f < filters.size(); f++) {
        if (filters.get(f).query().matches(s)) {
          expected[f]++;
        }
      }
      for (Chart c : charts) {
        int b = c.buckets().indexOf(TaskQuery.Cursor.millis(s));
        if (b >= 0 && s.state() == TaskState.SUCCESS) {
          c.succeeded()[b]++;
        } else if (b >= 0 && s.state() == TaskState.FAILURE) {
          c.failed()[b]++;
        }
      }
      batch.add(s);
      if (batch.size() == settings.batch() || i == rows - 1) {
        checkStopped();
        results.putAll(batch, TTL);
        batch.clear();
        int tenth = (int) ((i + 1L) * 10 / rows);
        if (tenth > reported) {
          reported = tenth;
          progress.stored(i + 1, rows, System.nanoTime() - t0);
        }
      }
    }
    return System.nanoTime() - t0;
  }

  /**
   * Warms up (untimed pages of every filter and a few hundred by name, so the JIT and the backend's
   * caches and prepared statements are as in a long-running process), then times every filter.
   */
  public List<FilterFigures> measure() {
    for (StatusMix.Filter f : filters) {
      results.search(f.query());
      results.count(f.query());
    }
    for (int i = 0; i < 200; i++) {
      checkStopped();
      results.search(
          TaskQuery.builder().name("bench.task" + i % StatusMix.NAMES).limit(100).build());
    }
    List<FilterFigures> out = new ArrayList<>();
    for (int f = 0; f < filters.size(); f++) {
      out.add(measure(filters.get(f), expected[f]));
    }
    return out;
  }

  private FilterFigures measure(StatusMix.Filter filter, long expectedMatches) {
    TaskQuery query = filter.query();
    Timed<Long> count = time(() -> results.count(query));
    if (count.value() != expectedMatches) {
      throw wrong(filter, "count returned " + count.value() + ", not " + expectedMatches);
    }
    Timed<TaskPage> first = time(() -> results.search(query));
    check(filter, query, first.value(), Math.min(PAGE, expectedMatches));
    long at = Math.min(settings.depth(), Math.max(0, expectedMatches - PAGE));
    Timing deep = null;
    if (at > 0) {
      TaskQuery after = query.toBuilder().after(cursorAt(filter, at)).build();
      Timed<TaskPage> page = time(() -> results.search(after));
      check(filter, after, page.value(), PAGE);
      deep = page.timing();
    }
    return new FilterFigures(
        filter.key(),
        filter.description(),
        expectedMatches,
        first.timing(),
        at,
        deep,
        count.timing());
  }

  /**
   * Times the overview chart of each range both ways: a {@code count} per bucket and figure (what
   * the dashboard did before {@link ResultStore#countByTime}), and one {@code countByTime} per
   * figure. Both are checked against the rows stored.
   */
  public List<ChartFigures> measureCharts() {
    List<ChartFigures> out = new ArrayList<>();
    for (Chart c : charts) {
      TaskQuery ok = TaskQuery.builder().state(TaskState.SUCCESS).build();
      TaskQuery bad = TaskQuery.builder().state(TaskState.FAILURE).build();
      Timed<long[][]> perBucket =
          time(
              () -> {
                long[][] counts = new long[2][c.buckets().count()];
                for (int i = 0; i < c.buckets().count(); i++) {
                  Instant from = c.buckets().bucketStart(i);
                  Instant to = c.buckets().bucketStart(i + 1);
                  counts[0][i] = results.count(ok.toBuilder().from(from).to(to).build());
                  counts[1][i] = results.count(bad.toBuilder().from(from).to(to).build());
                }
                return counts;
              });
      Timed<long[][]> byTime =
          time(
              () ->
                  new long[][] {
                    results.countByTime(ok, c.buckets()), results.countByTime(bad, c.buckets())
                  });
      for (Timed<long[][]> t : List.of(perBucket, byTime)) {
        if (!Arrays.equals(t.value()[0], c.succeeded())
            || !Arrays.equals(t.value()[1], c.failed())) {
          throw new IllegalStateException(
              "the "
                  + c.range()
                  + " chart counted "
                  + Arrays.toString(t.value()[0])
                  + " / "
                  + Arrays.toString(t.value()[1])
                  + ", not "
                  + Arrays.toString(c.succeeded())
                  + " / "
                  + Arrays.toString(c.failed()));
        }
      }
      out.add(
          new ChartFigures(
              c.range(),
              c.buckets().count(),
              Arrays.stream(c.succeeded()).sum(),
              Arrays.stream(c.failed()).sum(),
              perBucket.timing(),
              byTime.timing()));
    }
    return out;
  }

  /** The cursor after the first {@code at} matches, walked to in pages of up to 1,000. */
  private String cursorAt(StatusMix.Filter filter, long at) {
    String cursor = null;
    long walked = 0;
    while (walked < at) {
      checkStopped();
      int limit = (int) Math.min(TaskQuery.MAX_LIMIT, at - walked);
      TaskPage page = results.search(filter.query().toBuilder().after(cursor).limit(limit).build());
      if (page.tasks().size() != limit || page.next() == null) {
        throw wrong(filter, "the page after " + walked + " matches is short");
      }
      walked += limit;
      cursor = page.next();
    }
    return cursor;
  }

  /**
   * Times the first count after every status expired: moves the clock past their time to live. The
   * store is useless to the bench afterwards.
   */
  public double expire() {
    clock.advance(TTL.plusMinutes(1));
    long t0 = System.nanoTime();
    long left = results.count(TaskQuery.builder().build());
    double ms = (System.nanoTime() - t0) / 1e6;
    if (left != 0) {
      throw new IllegalStateException(
          "count after every status expired returned " + left + ", not 0");
    }
    return ms;
  }

  /** Checks that {@code page} holds {@code size} statuses matching {@code query}, in order. */
  private void check(StatusMix.Filter filter, TaskQuery query, TaskPage page, long size) {
    List<TaskStatus> tasks = page.tasks();
    if (tasks.size() != size) {
      throw wrong(filter, "a page held " + tasks.size() + " statuses, not " + size);
    }
    TaskQuery.Cursor previous =
        query.after() == null ? null : TaskQuery.Cursor.parse(query.after());
    for (TaskStatus s : tasks) {
      if (!query.matches(s)) {
        throw wrong(filter, "a page held " + s.id() + ", which does not match");
      }
      if (previous != null && !previous.isBefore(TaskQuery.Cursor.millis(s), s.id())) {
        throw wrong(filter, "a page held " + s.id() + " out of order");
      }
      previous = TaskQuery.Cursor.after(s);
    }
  }

  private static IllegalStateException wrong(StatusMix.Filter filter, String what) {
    return new IllegalStateException(
        "search with filter " + filter.key() + " (" + filter.description() + "): " + what);
  }

  private void checkStopped() {
    if (stopped) {
      throw new CancellationException("bench-search stopped");
    }
  }

  private record Timed<T>(T value, Timing timing) {}

  /** Runs {@code call} {@code repeat} times; the value of the last run, median and max. */
  private <T> Timed<T> time(Supplier<T> call) {
    checkStopped();
    long[] nanos = new long[settings.repeat()];
    T value = null;
    for (int i = 0; i < nanos.length; i++) {
      long t0 = System.nanoTime();
      value = call.get();
      nanos[i] = System.nanoTime() - t0;
    }
    Arrays.sort(nanos);
    int n = nanos.length;
    double median = n % 2 == 1 ? nanos[n / 2] : (nanos[n / 2 - 1] + nanos[n / 2]) / 2.0;
    return new Timed<>(value, new Timing(median / 1e6, nanos[n - 1] / 1e6));
  }
}
