package dev.errand.cli.internal.bench;

import dev.errand.spi.Backend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The reliability experiments of {@code errand chaos}: real worker processes ({@code errand worker}
 * with its supervisor) run {@link ChaosApp} tasks while something goes wrong, and the harness
 * counts what happened to every task it sent: executed, completed, run more than once, lost, stuck.
 * At-least-once allows a task interrupted by a crash to run again (a duplicate); nothing may be
 * lost or left stuck, and a wrong clock must cause no duplicate at all.
 */
public final class Chaos {

  /**
   * Settings of a run.
   *
   * @param tasks tasks sent per scenario
   * @param workers worker processes
   * @param concurrency tasks each runs at once
   * @param dir a directory for logs, files and servers
   */
  public record Settings(int tasks, int workers, int concurrency, Path dir) {}

  /**
   * What happened to the tasks of one scenario.
   *
   * @param scenario its name
   * @param backend where it ran
   * @param sent tasks enqueued
   * @param executed distinct tasks whose handler started at least once
   * @param completed tasks that ended SUCCESS
   * @param duplicates extra starts: a task started twice counts one
   * @param lost tasks neither finished nor still held by the broker at the end
   * @param stuck tasks still queued or leased at the end, plus workers reporting NOT CONSUMING
   * @param notes what was done to the system, and anything else to know; "not run: ..." if skipped
   */
  public record Report(
      String scenario,
      String backend,
      int sent,
      int executed,
      int completed,
      int duplicates,
      int lost,
      int stuck,
      String notes) {

    static Report notRun(String scenario, String why) {
      return new Report(scenario, "-", 0, 0, 0, 0, 0, 0, "not run: " + why);
    }
  }

  static final Duration LEASE = Duration.ofSeconds(5);
  static final Duration SETTLE = Duration.ofSeconds(150);

  private final Settings settings;
  private final PrintWriter out;

  public Chaos(Settings settings, PrintWriter out) {
    this.settings = settings;
    this.out = out;
  }

  /** SIGKILLs a random worker process every 3 s while tasks are sent and run. */
  public Report crashStorm(String url, String backendName) throws Exception {
    ChaosRun.Run run = new ChaosRun.Run(settings, "crash-storm", url);
    try (ChaosRun.Workers workers = new ChaosRun.Workers(settings, url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("crash-" + i, Map.of());
      }
      run.awaitWorkers(settings.workers());
      int[] kills = {0};
      Thread killer =
          ChaosSupport.background(
              "killer",
              () -> {
                while (run.sending.get() || run.unfinished() > 0) {
                  ChaosSupport.sleep(3_000);
                  if (workers.killOne().isPresent()) {
                    kills[0]++;
                  }
                }
              });
      run.send(settings.tasks(), 20, 400, null);
      run.sending.set(false);
      run.settle();
      killer.interrupt();
      killer.join(5_000);
      ChaosSupport.sleep(2 * LEASE.toMillis()); // let the last restarted workers report in
      return run.report(backendName, kills[0] + " worker processes SIGKILLed, one every 3 s");
    } finally {
      run.close();
    }
  }

  /** Kills the backend's server mid-run (SIGKILL) and starts it again 3 s later. Redis only. */
  public Report backendRestart() throws Exception {
    Optional<String> server = ChaosSupport.which("redis-server");
    if (server.isEmpty()) {
      return Report.notRun("backend-restart", "no redis-server on the PATH");
    }
    Path data = Files.createDirectories(settings.dir().resolve("redis-data"));
    int port = ChaosSupport.freePort();
    ChaosSupport.OwnRedis redis = new ChaosSupport.OwnRedis(server.get(), port, data);
    redis.start();
    String url = "redis://127.0.0.1:" + port + "/0?prefix=chaos&timeout=2s";
    ChaosRun.Run run = new ChaosRun.Run(settings, "backend-restart", url);
    try (ChaosRun.Workers workers = new ChaosRun.Workers(settings, url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("restart-" + i, Map.of());
      }
      run.awaitWorkers(settings.workers());
      Thread chaos =
          ChaosSupport.background(
              "redis-killer",
              () -> {
                ChaosSupport.sleep(Math.max(3_000, settings.tasks() / 100 * 1_000 / 3));
                redis.kill();
                ChaosSupport.sleep(3_000);
                redis.start();
              });
      run.send(settings.tasks(), 20, 200, null);
      run.sending.set(false);
      chaos.join();
      run.settle();
      ChaosSupport.sleep(2 * LEASE.toMillis());
      return run.report(
          "redis (own, AOF fsync always)",
          "redis-server SIGKILLed mid-run and restarted 3 s later");
    } finally {
      run.close();
      redis.kill();
    }
  }

  /**
   * Writes garbage where Errand keeps its data, mid-run: undecodable and hostile messages sent by
   * hand, and (on Redis) values of the wrong type under every key of a queue the workers consume.
   */
  public Report garbage(String url, String backendName, Consumer<Backend> injectRaw)
      throws Exception {
    ChaosRun.Run run = new ChaosRun.Run(settings, "garbage", url);
    try (ChaosRun.Workers workers = new ChaosRun.Workers(settings, url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("garbage-" + i, Map.of(), "-Q", "default,chaos-garbage");
      }
      run.awaitWorkers(settings.workers());
      long deadBefore = run.backend.deadLetters().count(null);
      Thread chaos =
          ChaosSupport.background(
              "garbage",
              () -> {
                ChaosSupport.sleep(2_000);
                injectRaw.accept(run.backend);
              });
      run.send(settings.tasks(), 20, 200, null);
      run.sending.set(false);
      chaos.join();
      run.settle();
      ChaosSupport.sleep(2 * LEASE.toMillis());
      long dead = run.backend.deadLetters().count(null) - deadBefore;
      return run.report(backendName, "garbage written mid-run; " + dead + " dead letters of it");
    } finally {
      run.close();
    }
  }

  /**
   * Three workers, one with a correct clock, one 60 s ahead and one 60 s behind (libfaketime): long
   * tasks (twice the lease) and tasks with a 6 s countdown. No task may run twice or early.
   */
  public Report clockSkew(String url, String backendName) throws Exception {
    Optional<Path> faketime =
        List.of(
                "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                "/usr/lib/faketime/libfaketime.so.1")
            .stream()
            .map(Path::of)
            .filter(Files::exists)
            .findFirst();
    if (faketime.isEmpty()) {
      return Report.notRun("clock-skew", "libfaketime is not installed (apt-get install faketime)");
    }
    ChaosRun.Run run = new ChaosRun.Run(settings, "clock-skew", url);
    try (ChaosRun.Workers workers = new ChaosRun.Workers(settings, url)) {
      workers.start("skew-0", Map.of());
      workers.start("skew-ahead", ChaosSupport.fakeTime(faketime.get(), "+60s"));
      workers.start("skew-behind", ChaosSupport.fakeTime(faketime.get(), "-60s"));
      run.awaitWorkers(3);
      Map<String, Long> firstSeen = new HashMap<>();
      Thread tail = ChaosSupport.background("tail", () -> tail(run, firstSeen));
      Duration countdown = Duration.ofSeconds(6);
      int longOnes = Math.max(6, settings.workers() * settings.concurrency());
      run.send(longOnes, 2 * (int) LEASE.toMillis(), 2 * (int) LEASE.toMillis() + 500, null);
      run.send(Math.max(30, settings.tasks() / 10), 10, 50, countdown);
      run.sending.set(false);
      run.settle();
      tail.interrupt();
      tail.join(2_000);
      int early = 0;
      long worstEarlyMs = 0;
      synchronized (firstSeen) {
        for (Map.Entry<String, Duration> c : run.countdowns.entrySet()) {
          Long seen = firstSeen.get(c.getKey());
          if (seen == null) {
            continue;
          }
          long ranAfterMs = TimeUnit.NANOSECONDS.toMillis(seen - run.sentAtNanos.get(c.getKey()));
          long earlyMs = c.getValue().toMillis() - ranAfterMs;
          if (earlyMs > 250) { // the tick plus the tail's polling
            early++;
            worstEarlyMs = Math.max(worstEarlyMs, earlyMs);
          }
        }
      }
      return run.report(
          backendName,
          "workers at +0, +60 s and -60 s; "
              + longOnes
              + " tasks of twice the lease, "
              + run.countdowns.size()
              + " with a 6 s countdown: "
              + early
              + " ran early"
              + (early > 0 ? " (worst " + worstEarlyMs + " ms)" : ""));
    } finally {
      run.close();
    }
  }

  /** Notes when each task's start line first appears in the log, by this process's clock. */
  private void tail(ChaosRun.Run run, Map<String, Long> firstSeen) {
    long read = 0;
    while (!Thread.currentThread().isInterrupted()) {
      try {
        if (Files.exists(run.log)) {
          byte[] all = Files.readAllBytes(run.log);
          long now = System.nanoTime();
          String text = new String(all, (int) read, all.length - (int) read);
          int lastNewline = text.lastIndexOf('\n');
          if (lastNewline >= 0) {
            for (String line : text.substring(0, lastNewline).split("\n")) {
              String[] f = line.split(" ");
              if (f.length >= 2 && f[0].equals("start")) {
                synchronized (firstSeen) {
                  firstSeen.putIfAbsent(f[1], now);
                }
              }
            }
            read += text.substring(0, lastNewline + 1).getBytes().length;
          }
        }
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        // try again
      }
    }
  }

  /**
   * Fills the disk that holds a SQLite file until writes fail, holds it full for 6 s, then frees
   * it. Needs root, to mount a small tmpfs of its own.
   */
  public Report fullDisk() throws Exception {
    if (!"0".equals(ChaosSupport.run(List.of("id", "-u")).trim())) {
      return Report.notRun("full-disk", "needs root to mount a small tmpfs");
    }
    Path mount = Files.createDirectories(settings.dir().resolve("small-disk"));
    String mounted =
        ChaosSupport.run(
            List.of("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mount.toString()));
    if (!ChaosSupport.isMounted(mount)) {
      return Report.notRun("full-disk", "could not mount a tmpfs: " + mounted.trim());
    }
    String url = "sqlite:" + mount.resolve("chaos.db");
    ChaosRun.Run run = new ChaosRun.Run(settings, "full-disk", url);
    try (ChaosRun.Workers workers = new ChaosRun.Workers(settings, url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("disk-" + i, Map.of());
      }
      run.awaitWorkers(settings.workers());
      long[] heldFullMs = {0};
      Thread chaos =
          ChaosSupport.background(
              "disk-filler",
              () -> {
                ChaosSupport.sleep(3_000);
                Path junk = mount.resolve("junk");
                try {
                  Files.write(junk, new byte[0]);
                  byte[] mb = new byte[1 << 20];
                  try (var o = Files.newOutputStream(junk)) {
                    while (true) {
                      o.write(mb);
                    }
                  }
                } catch (IOException full) {
                  long since = System.nanoTime();
                  ChaosSupport.sleep(6_000);
                  heldFullMs[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
                  try {
                    Files.deleteIfExists(junk);
                  } catch (IOException e) {
                    throw new IllegalStateException(e);
                  }
                }
              });
      run.send(settings.tasks(), 20, 200, null);
      run.sending.set(false);
      chaos.join();
      run.settle();
      ChaosSupport.sleep(2 * LEASE.toMillis());
      return run.report(
          "sqlite (48 MiB tmpfs)",
          "disk filled mid-run and held full for " + heldFullMs[0] + " ms");
    } finally {
      run.close();
      ChaosSupport.run(List.of("umount", "-l", mount.toString()));
    }
  }

  /** Prints the reports as a Markdown table. */
  public static void print(List<Report> reports, PrintWriter out) {
    out.println(
        "| scenario | backend | sent | executed | completed | duplicates | lost | stuck | notes |");
    out.println("|---|---|---:|---:|---:|---:|---:|---:|---|");
    for (Report r : reports) {
      out.printf(
          "| %s | %s | %d | %d | %d | %d | %d | %d | %s |%n",
          r.scenario(),
          r.backend(),
          r.sent(),
          r.executed(),
          r.completed(),
          r.duplicates(),
          r.lost(),
          r.stuck(),
          r.notes());
    }
    out.flush();
  }

  /** Prints a line of progress. */
  public void progress(String line) {
    out.println(line);
    out.flush();
  }
}
