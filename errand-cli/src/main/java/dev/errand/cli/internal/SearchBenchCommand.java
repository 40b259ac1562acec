package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Backends;
import dev.errand.cli.internal.bench.RedisScratch;
import dev.errand.cli.internal.bench.SearchBench;
import dev.errand.cli.internal.bench.SearchBenchResult;
import dev.errand.cli.internal.bench.SearchBenchResult.ChartFigures;
import dev.errand.cli.internal.bench.SearchBenchResult.FilterFigures;
import dev.errand.cli.internal.bench.SearchBenchResult.Timing;
import dev.errand.cli.internal.bench.ShiftedClock;
import dev.errand.spi.Backend;
import dev.errand.spi.TaskQuery;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code errand bench-search}: times task search and count over many stored statuses. */
@Command(
    name = "bench-search",
    mixinStandardHelpOptions = true,
    description = {
      "Measure task search at scale: store N generated task statuses (a mix of",
      "names, states, queues, parents and update times) in batches, then time, for",
      "each filter, count(), the first page and a page --depth matches deep (by",
      "cursor), --repeat times each (median and max, ms; pages of 50), and the",
      "dashboard overview's charts counted per bucket and by countByTime. Every",
      "answer is checked against the stored rows. A million take 20 s to a",
      "minute to store.",
      "Redis: runs under a key prefix of its own (the URL's prefix followed by",
      "-bench-search-XXXXXXXX) and deletes its keys at the end, also on Ctrl-C.",
      "SQLite: give it a fresh file, e.g. --broker sqlite:/tmp/errand-bench-search.db",
      "(a file that exists and is not empty is refused); the statuses stay in the",
      "file afterwards: delete it.",
      "memory: for a try at small sizes only (the store filters by scanning)."
    })
final class SearchBenchCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Option(
      names = "--rows",
      paramLabel = "N",
      description = "Statuses to store (default: " + SearchBench.DEFAULT_ROWS + ").")
  int rows = SearchBench.DEFAULT_ROWS;

  @Option(
      names = "--batch",
      paramLabel = "N",
      description = "Statuses per putAll call (default: " + SearchBench.DEFAULT_BATCH + ").")
  int batch = SearchBench.DEFAULT_BATCH;

  @Option(
      names = "--repeat",
      paramLabel = "N",
      description = "Runs of each timed call (default: " + SearchBench.DEFAULT_REPEAT + ").")
  int repeat = SearchBench.DEFAULT_REPEAT;

  @Option(
      names = "--depth",
      paramLabel = "N",
      description =
          "Matches before the deep page, fewer where a filter has fewer (default: "
              + SearchBench.DEFAULT_DEPTH
              + ").")
  int depth = SearchBench.DEFAULT_DEPTH;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (rows <= 0) throw new UsageException("--rows must be > 0 but was " + rows);
    if (batch <= 0) throw new UsageException("--batch must be > 0 but was " + batch);
    if (repeat <= 0) throw new UsageException("--repeat must be > 0 but was " + repeat);
    if (depth < 0) throw new UsageException("--depth must be >= 0 but was " + depth);
    String url = backend.url();
    if (url.startsWith("sqlite:")) {
      requireFreshFile(url);
    }
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.errand"))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter progress = output.json ? spec.commandLine().getErr() : out;
    SearchBench.Settings settings = new SearchBench.Settings(rows, batch, repeat, depth);
    RedisScratch redis = RedisScratch.isRedis(url) ? RedisScratch.open(url) : null;
    AtomicReference<SearchBench> running = new AtomicReference<>();
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = redis == null ? null : cleanUpOnExit(redis, running, finished);
    ShiftedClock clock = new ShiftedClock();
    String where;
    SearchBenchResult r;
    long memoryGrowth = 0;
    long deleted = 0;
    try (Backend b = Backends.open(redis == null ? url : redis.url(), clock)) {
      where = b.describe();
      long already = b.results().count(TaskQuery.builder().build());
      if (already > 0) {
        throw new UsageException(
            where
                + " already holds "
                + already
                + " task statuses; bench-search needs an empty result store (a fresh sqlite:"
                + " file, or redis://, where it uses a key prefix of its own)");
      }
      progress.printf(
          "errand bench-search on %s: %,d statuses in batches of %d, pages of %d, %d runs"
              + " each, Java %d, %d CPUs%n",
          where,
          rows,
          batch,
          SearchBench.PAGE,
          repeat,
          Runtime.version().feature(),
          Runtime.getRuntime().availableProcessors());
      if (redis != null) {
        progress.printf("keys under prefix %s, deleted at the end%n", redis.prefix());
      }
      progress.flush();
      SearchBench bench = new SearchBench(b.results(), clock, settings);
      running.set(bench);
      long memory0 = redis == null ? 0 : redis.usedMemory();
      long fillNanos =
          bench.fill(
              (stored, total, nanos) -> {
                progress.printf(
                    "  stored %,d of %,d (%d%%), %,.0f statuses/s%n",
                    stored, total, stored * 100L / total, stored / (nanos / 1e9));
                progress.flush();
              });
      progress.printf(
          "stored %,d statuses in %.1f s (%,.0f/s)%n",
          rows, fillNanos / 1e9, rows / (fillNanos / 1e9));
      if (redis != null) {
        memoryGrowth = redis.usedMemory() - memory0;
        progress.printf(
            "Redis used_memory grew by %,.1f MiB (%,d bytes per status)%n",
            memoryGrowth / 1048576.0, memoryGrowth / rows);
      }
      progress.println("timing the filters ...");
      progress.flush();
      List<FilterFigures> figures = bench.measure();
      progress.println("timing the overview's charts ...");
      progress.flush();
      List<ChartFigures> charts = bench.measureCharts();
      double expired = bench.expire();
      r =
          new SearchBenchResult(
              rows, fillNanos / 1e9, rows / (fillNanos / 1e9), figures, charts, expired);
    } finally {
      finished.countDown();
      if (redis != null) {
        try {
          progress.printf("deleting the keys under prefix %s ...%n", redis.prefix());
          progress.flush();
          deleted = redis.deleteKeys();
        } finally {
          redis.close();
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs, and finds the keys deleted
          }
        }
      }
    }
    if (output.json) {
      ObjectNode o = Wire.mapper().createObjectNode();
      o.put("backend", where);
      o.put("rows", rows);
      o.put("batch", batch);
      o.put("repeat", repeat);
      o.put("pageSize", SearchBench.PAGE);
      o.put("depth", depth);
      if (redis != null) {
        o.put("redisPrefix", redis.prefix());
        o.put("redisMemoryGrowthBytes", memoryGrowth);
        o.put("redisKeysDeleted", deleted);
      }
      o.set("figures", Wire.mapper().valueToTree(r));
      OutputOptions.printJson(out, o);
      return 0;
    }
    out.println();
    List<List<String>> table = new ArrayList<>();
    for (FilterFigures f : r.filters()) {
      table.add(
          List.of(
              f.filter(),
              f.query(),
              String.format("%,d", f.matches()),
              ms(f.firstPage()),
              f.deepPage() == null ? "-" : String.format("%,d", f.deepAt()),
              f.deepPage() == null ? "-" : ms(f.deepPage()),
              ms(f.count())));
    }
    OutputOptions.printTable(
        spec.commandLine().getColorScheme().ansi(),
        out,
        List.of("FILTER", "SELECTS", "MATCHES", "FIRST PAGE", "DEEP AT", "DEEP PAGE", "COUNT"),
        table);
    out.printf(
        "%nms, median / max of %d runs; the deep page starts DEEP AT matches in, by cursor.%n%n",
        repeat);
    List<List<String>> chartTable = new ArrayList<>();
    for (ChartFigures c : r.charts()) {
      chartTable.add(
          List.of(
              c.range(),
              String.valueOf(c.buckets()),
              String.format("%,d", c.succeeded()),
              String.format("%,d", c.failed()),
              ms(c.perBucket()),
              ms(c.byTime())));
    }
    OutputOptions.printTable(
        spec.commandLine().getColorScheme().ansi(),
        out,
        List.of(
            "OVERVIEW CHART",
            "BUCKETS",
            "SUCCEEDED",
            "FAILED",
            "COUNT PER BUCKET (2 x BUCKETS CALLS)",
            "COUNT BY TIME (2 CALLS)"),
        chartTable);
    out.printf("%nsucceeded and failed tasks per bucket, counted both ways (ms, median / max).%n");
    out.printf(
        "first count after every status expired: %.1f ms%s%n",
        r.expiredCountMs(), redis == null ? "" : " (it trims the expired ids from the index)");
    if (redis != null) {
      out.printf("deleted %,d keys under prefix %s%n", deleted, redis.prefix());
    } else if (url.startsWith("sqlite:")) {
      out.printf("the statuses (expired now) stay in %s: delete the file when done%n", where);
    }
    out.flush();
    return 0;
  }

  /**
   * Stops the bench and deletes its keys when the JVM exits early (Ctrl-C): lets the command stop
   * at its next step (up to 30 s), so no write follows the deletion.
   */
  private static Thread cleanUpOnExit(
      RedisScratch redis, AtomicReference<SearchBench> running, CountDownLatch finished) {
    Thread hook =
        new Thread(
            () -> {
              SearchBench bench = running.get();
              if (bench != null) {
                bench.stop();
              }
              try {
                finished.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              // The JVM halts when this hook returns, so it deletes (or waits for the command to
              // finish deleting: the call is synchronized, and does nothing a second time).
              redis.deleteKeys();
            },
            "bench-search-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  /** Refuses an SQLite file that exists and is not empty: the bench cannot remove its rows. */
  private void requireFreshFile(String url) {
    String path = url.substring("sqlite:".length());
    if (path.startsWith("//")) {
      path = path.substring(2);
    }
    long size;
    try {
      Path file = Path.of(path);
      size = Files.isRegularFile(file) ? Files.size(file) : 0;
    } catch (InvalidPathException | IOException e) {
      return; // opening the backend reports it
    }
    if (size > 0) {
      throw new UsageException(
          "bench-search stores "
              + String.format("%,d", rows)
              + " statuses it cannot remove, so it needs a fresh SQLite file, but "
              + path
              + " exists; use e.g. --broker sqlite:/tmp/errand-bench-search.db");
    }
  }

  private static String ms(Timing t) {
    return String.format("%.2f / %.2f", t.medianMs(), t.maxMs());
  }
}
