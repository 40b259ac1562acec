package dev.errand.bench.peers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Properties;

/**
 * Watches, once a second while a product runs, what else loads the machine: the CPU time of the
 * processes that are neither this JVM nor PostgreSQL's (from {@code /proc}), the PostgreSQL
 * sessions of others that are running a statement (from {@code pg_stat_activity}; the bench's own
 * pools are named {@code peers-bench-*}) and the 1-minute load average. A run that shared the
 * machine or the server is flagged in the report rather than silently trusted.
 */
final class Noise implements AutoCloseable {

  static final String APPLICATION_PREFIX = "peers-bench";

  private static final String QUERY =
      "select count(*) from pg_stat_activity where backend_type = 'client backend'"
          + " and state = 'active' and pid <> pg_backend_pid()"
          + " and coalesce(application_name, '') not like '" + APPLICATION_PREFIX + "%'";

  private final Thread thread;
  private volatile boolean stop;
  private int samples;
  private double loadSum;
  private double loadMax;
  private long othersSum;
  private long othersMax;
  private int busySamples;
  private double otherCpuSum;
  private double otherCpuMax;
  private int cpuSamples;

  /** Other processes may use this much CPU, in cores, on average before a run is not quiet. */
  static final double QUIET_OTHER_CPU = 0.15;

  private static final long SELF = ProcessHandle.current().pid();
  private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux
  private final java.util.Map<Long, Long> ticks = new java.util.HashMap<>();
  private long ticksAt;

  Noise(String jdbc) {
    thread =
        new Thread(
            () -> {
              Properties p = new Properties();
              p.setProperty("ApplicationName", APPLICATION_PREFIX + "-noise");
              try (Connection c = DriverManager.getConnection(jdbc, p);
                  PreparedStatement s = c.prepareStatement(QUERY)) {
                while (!stop) {
                  long others;
                  try (ResultSet r = s.executeQuery()) {
                    r.next();
                    others = r.getLong(1);
                  }
                  double load = loadAverage();
                  double otherCpu = otherCpu();
                  synchronized (this) {
                    if (!Double.isNaN(otherCpu)) {
                      cpuSamples++;
                      otherCpuSum += otherCpu;
                      otherCpuMax = Math.max(otherCpuMax, otherCpu);
                    }
                    samples++;
                    loadSum += load;
                    loadMax = Math.max(loadMax, load);
                    othersSum += others;
                    othersMax = Math.max(othersMax, others);
                    if (others > 0) {
                      busySamples++;
                    }
                  }
                  Thread.sleep(1_000);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (Exception e) {
                // the watch is a courtesy: the figures do not depend on it
              }
            },
            "noise-watch");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Cores used since the last call by the processes other than this JVM and PostgreSQL's (NaN on
   * the first call, or without /proc).
   */
  private double otherCpu() {
    long now = System.nanoTime();
    long delta = 0;
    java.util.Map<Long, Long> seen = new java.util.HashMap<>();
    try (var dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path dir : dirs) {
        long pid = Long.parseLong(dir.getFileName().toString());
        if (pid == SELF) {
          continue;
        }
        String stat;
        try {
          stat = Files.readString(dir.resolve("stat"));
        } catch (Exception gone) {
          continue;
        }
        int close = stat.lastIndexOf(')');
        String comm = stat.substring(stat.indexOf('(') + 1, close);
        if (comm.equals("postgres")) {
          continue;
        }
        String[] f = stat.substring(close + 2).split(" ");
        // after the name: state(0) ... utime(11) stime(12)
        long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        seen.put(pid, t);
        Long before = ticks.get(pid);
        if (before != null) {
          delta += t - before;
        } else if (ticksAt != 0) {
          delta += t; // started since the last look
        }
      }
    } catch (Exception e) {
      return Double.NaN;
    }
    long previous = ticksAt;
    ticks.clear();
    ticks.putAll(seen);
    ticksAt = now;
    if (previous == 0) {
      return Double.NaN;
    }
    return delta / TICKS_PER_SECOND / ((now - previous) / 1e9);
  }

  private static double loadAverage() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg"));
      return Double.parseDouble(s.substring(0, s.indexOf(' ')));
    } catch (Exception e) {
      return Double.NaN;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop = true;
    thread.interrupt();
    thread.join(5_000);
  }

  synchronized String summary() {
    if (samples == 0) {
      return "not watched";
    }
    return String.format(
        "other processes (not this JVM, not PostgreSQL) used %.2f cores on average, %.2f at most;"
            + " 1-min load average mean %.1f, max %.1f (%d CPUs); other sessions running statements"
            + " on the server: mean %.1f, max %d, in %d%% of %d samples",
        cpuSamples == 0 ? Double.NaN : otherCpuSum / cpuSamples,
        otherCpuMax,
        loadSum / samples,
        loadMax,
        Runtime.getRuntime().availableProcessors(),
        (double) othersSum / samples,
        othersMax,
        Math.round(100.0 * busySamples / samples),
        samples);
  }

  /** No other session ran a statement on the server and other processes stayed near idle. */
  synchronized boolean quiet() {
    return samples > 0
        && busySamples == 0
        && cpuSamples > 0
        && otherCpuSum / cpuSamples < QUIET_OTHER_CPU;
  }

  synchronized java.util.Map<String, Object> json() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("samples", samples);
    m.put("loadMean", samples == 0 ? Double.NaN : loadSum / samples);
    m.put("loadMax", loadMax);
    m.put("otherActiveSessionsMean", samples == 0 ? Double.NaN : (double) othersSum / samples);
    m.put("otherActiveSessionsMax", othersMax);
    m.put("samplesWithOtherActiveSessions", busySamples);
    m.put("otherProcessesCpuCoresMean", cpuSamples == 0 ? Double.NaN : otherCpuSum / cpuSamples);
    m.put("otherProcessesCpuCoresMax", otherCpuMax);
    return m;
  }
}
