package dev.errand.bench.peers;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * db-scheduler and JobRunr on PostgreSQL, measured with the workloads of {@code errand bench}, so
 * that their figures can be set beside Errand's own ({@code errand bench --broker
 * postgresql://...}). See README.md beside the pom.
 */
public final class PeersBench {

  private PeersBench() {}

  public static void main(String[] args) {
    Locale.setDefault(Locale.ROOT);
    Options options;
    try {
      options = Options.parse(args);
    } catch (Options.Usage u) {
      if (u.getMessage() == null) {
        System.out.print(Options.USAGE);
        System.exit(0);
      }
      System.err.println(u.getMessage());
      System.err.print(Options.USAGE);
      System.exit(2);
      return;
    }
    int status;
    try {
      status = run(options);
    } catch (Exception e) {
      e.printStackTrace();
      status = 1;
    }
    // JobRunr and HikariCP may leave threads behind; the run is over.
    System.exit(status);
  }

  private static int run(Options options) throws Exception {
    PrintStream out = options.json() ? System.err : System.out;
    PrintStream log = System.err;
    long t0 = System.nanoTime();
    byte[] random = new byte[4];
    ThreadLocalRandom.current().nextBytes(random);
    String run = HexFormat.of().formatHex(random);
    String postgres = Db.serverVersion(options.jdbc());

    List<Figures> results = new ArrayList<>();
    Map<String, String> errors = new LinkedHashMap<>();
    for (String product : options.products()) {
      String schema = "peers_bench_" + run + "_" + product.replace("-", "");
      Db.createSchema(options.jdbc(), schema);
      AtomicBoolean dropped = new AtomicBoolean();
      Runnable drop =
          () -> {
            if (dropped.compareAndSet(false, true)) {
              try {
                Db.dropSchema(options.jdbc(), schema);
                log.printf("[%s] dropped schema %s%n", product, schema);
              } catch (Exception e) {
                log.printf("[%s] could not drop schema %s: %s%n", product, schema, e);
              }
            }
          };
      Thread hook = new Thread(drop, "drop-" + schema);
      Runtime.getRuntime().addShutdownHook(hook);
      log.printf("[%s] schema %s%n", product, schema);
      Peer peer =
          product.equals(Options.DB_SCHEDULER)
              ? new DbSchedulerPeer(options, schema)
              : new JobRunrPeer(options, schema);
      Noise noise = new Noise(options.jdbc());
      try {
        Figures f = new Harness(options, log).run(peer);
        noise.close();
        f.noise = noise.summary();
        f.quiet = noise.quiet();
        f.noiseJson = noise.json();
        if (!f.quiet) {
          f.notes.add(
              "other processes or sessions were busy during this run (see 'meanwhile'): its"
                  + " figures are not those of a quiet machine");
        }
        f.configuration.put("schema", schema);
        results.add(f);
        out.println();
        out.print(table(f, options, postgres));
        out.flush();
      } catch (Exception e) {
        log.printf("[%s] failed: %s%n", product, e);
        e.printStackTrace(log);
        errors.put(product, String.valueOf(e));
      } finally {
        noise.close();
        try {
          peer.close();
        } catch (Exception e) {
          log.printf("[%s] close: %s%n", product, e);
        }
        drop.run();
        Runtime.getRuntime().removeShutdownHook(hook);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (results.size() > 1) {
      out.println();
      out.print(sideBySide(results));
    }
    out.printf("%nwhole run: %.0f s%n", seconds);
    if (options.json()) {
      System.out.println(Json.write(json(options, postgres, results, errors, seconds)));
    }
    return errors.isEmpty() ? 0 : 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Text

  private static String table(Figures f, Options o, String postgres) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "enqueue, one call per job (" + n(f.singles) + " calls, 1 thread)",
          rate(f.enqueueSingle, "calls/s")
        });
    rows.add(
        new String[] {
          "enqueue, batches of " + Harness.BATCH + " (" + n(f.batched) + " jobs)",
          rate(f.enqueueBatched, "jobs/s")
        });
    rows.add(
        new String[] {
          "drain " + n(f.drained) + " no-op jobs, " + o.threads() + " threads (first run to last)",
          rate(f.drain, "jobs/s")
        });
    rows.add(
        new String[] {
          String.format("drain, from the worker's start (start-up lag %,.0f ms)", f.drainStartupLagMs),
          rate(f.drainWithStartup, "jobs/s")
        });
    for (Figures.Latency l : f.latency) {
      rows.add(
          new String[] {
            "latency p50 / p95 / p99 / max, " + l.mode() + " (ms)", ms(l.fromReturn())
          });
    }
    for (Figures.Latency l : f.latency) {
      rows.add(
          new String[] {
            "  same from the call's start (as errand bench), " + l.mode(), ms(l.fromCall())
          });
    }
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "%s %s on PostgreSQL %s: %s tasks, %d threads, payload %d B, latency %s probes at %d/s"
                + " (took %.0f s)%n",
            f.product,
            f.version,
            postgres,
            n(o.tasks()),
            o.threads(),
            o.payload(),
            n(o.latencySamples()),
            o.latencyRate(),
            f.seconds));
    b.append(grid(new String[] {"workload", f.product}, rows));
    b.append("  enqueue, batches: ").append(f.batchApi).append('\n');
    for (Figures.Latency l : f.latency) {
      b.append("  latency ").append(l.mode()).append(": ").append(l.description());
      b.append(String.format("; %d of %d probes ran", l.recorded(), l.samples()));
      if (l.startedBeforeReturn() > 0) {
        b.append(String.format(", %d started before the call returned (counted 0)", l.startedBeforeReturn()));
      }
      if (l.duplicates() > 0) {
        b.append(String.format(", %d ran twice", l.duplicates()));
      }
      b.append('\n');
    }
    b.append("  configuration:\n");
    f.configuration.forEach((k, v) -> b.append("    ").append(k).append(": ").append(v).append('\n'));
    b.append("  meanwhile: ").append(f.noise).append('\n');
    for (String note : f.notes) {
      b.append("  note: ").append(note).append('\n');
    }
    return b.toString();
  }

  private static String sideBySide(List<Figures> results) {
    List<String> header = new ArrayList<>(List.of("workload"));
    results.forEach(f -> header.add(f.product + " " + f.version));
    List<String[]> rows = new ArrayList<>();
    rows.add(row("enqueue, one call per job (calls/s)", results, f -> num(f.enqueueSingle)));
    rows.add(row("enqueue, batches of 500 (jobs/s)", results, f -> num(f.enqueueBatched)));
    rows.add(row("drain, first run to last (jobs/s)", results, f -> num(f.drain)));
    rows.add(row("drain, from the worker's start (jobs/s)", results, f -> num(f.drainWithStartup)));
    List<String> modes = new ArrayList<>();
    results.forEach(
        f -> f.latency.forEach(l -> {
          if (!modes.contains(l.mode())) {
            modes.add(l.mode());
          }
        }));
    for (String mode : modes) {
      rows.add(
          row(
              "latency p50/p95/p99/max ms, " + mode,
              results,
              f ->
                  f.latency.stream()
                      .filter(l -> l.mode().equals(mode))
                      .findFirst()
                      .map(l -> ms(l.fromReturn()))
                      .orElse("n/a")));
    }
    return "side by side\n" + grid(header.toArray(String[]::new), rows);
  }

  private static String[] row(
      String name, List<Figures> results, java.util.function.Function<Figures, String> cell) {
    String[] r = new String[results.size() + 1];
    r[0] = name;
    for (int i = 0; i < results.size(); i++) {
      r[i + 1] = cell.apply(results.get(i));
    }
    return r;
  }

  private static String grid(String[] header, List<String[]> rows) {
    int[] w = new int[header.length];
    for (int i = 0; i < header.length; i++) {
      w[i] = header[i].length();
    }
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    StringBuilder b = new StringBuilder();
    line(b, header, w);
    String[] rule = new String[header.length];
    for (int i = 0; i < w.length; i++) {
      rule[i] = "-".repeat(w[i]);
    }
    line(b, rule, w);
    rows.forEach(r -> line(b, r, w));
    return b.toString();
  }

  private static void line(StringBuilder b, String[] cells, int[] w) {
    b.append("  ");
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        b.append("  ");
      }
      // first column left-aligned, figures right-aligned
      b.append(i == 0 ? pad(cells[i], w[i]) : String.format("%" + w[i] + "s", cells[i]));
    }
    b.append('\n');
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(Math.max(0, w - s.length()));
  }

  private static String n(int v) {
    return String.format("%,d", v);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "n/a" : String.format("%,.0f", v);
  }

  private static String rate(double v, String unit) {
    return num(v) + " " + unit;
  }

  private static String ms(Stats.Percentiles p) {
    return String.format("%s / %s / %s / %s", one(p.p50()), one(p.p95()), one(p.p99()), one(p.max()));
  }

  private static String one(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return v >= 100 ? String.format("%,.0f", v) : String.format("%.1f", v);
  }

  // ---------------------------------------------------------------------------------------------
  // JSON

  private static Map<String, Object> json(
      Options o, String postgres, List<Figures> results, Map<String, String> errors, double seconds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("bench", "postgres-peers");
    m.put("postgres", postgres);
    m.put("jdbc", o.jdbc().replaceAll("(?i)(password=)[^&]*", "$1***"));
    m.put("tasks", o.tasks());
    m.put("threads", o.threads());
    m.put("payloadBytes", o.payload());
    m.put("warmup", o.warmup());
    m.put("latencySamples", o.latencySamples());
    m.put("latencyRate", o.latencyRate());
    m.put("java", System.getProperty("java.version"));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    List<Object> products = new ArrayList<>();
    for (Figures f : results) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("product", f.product);
      p.put("version", f.version);
      p.put("enqueueSingleCalls", f.singles);
      p.put("enqueueSingle", f.enqueueSingle);
      p.put("enqueueBatchedJobs", f.batched);
      p.put("enqueueBatched", f.enqueueBatched);
      p.put("batchApi", f.batchApi);
      p.put("drainJobs", f.drained);
      p.put("drain", f.drain);
      p.put("drainWithStartup", f.drainWithStartup);
      p.put("drainStartupLagMs", f.drainStartupLagMs);
      p.put("drainSpanMs", f.drainSpanMs);
      p.put("drainExtraRuns", f.drainExtraRuns);
      List<Object> latency = new ArrayList<>();
      for (Figures.Latency l : f.latency) {
        Map<String, Object> lm = new LinkedHashMap<>();
        lm.put("mode", l.mode());
        lm.put("description", l.description());
        lm.put("samples", l.samples());
        lm.put("recorded", l.recorded());
        lm.put("fromReturn", percentiles(l.fromReturn()));
        lm.put("fromCallStart", percentiles(l.fromCall()));
        lm.put("startedBeforeReturn", l.startedBeforeReturn());
        lm.put("duplicates", l.duplicates());
        latency.add(lm);
      }
      p.put("latency", latency);
      p.put("configuration", f.configuration);
      p.put("notes", f.notes);
      p.put("quiet", f.quiet);
      p.put("meanwhile", f.noiseJson);
      p.put("seconds", f.seconds);
      products.add(p);
    }
    m.put("products", products);
    m.put("errors", errors);
    m.put("seconds", seconds);
    return m;
  }

  private static Map<String, Object> percentiles(Stats.Percentiles p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("p50Ms", p.p50());
    m.put("p95Ms", p.p95());
    m.put("p99Ms", p.p99());
    m.put("maxMs", p.max());
    return m;
  }
}
