package dev.errand.cli.internal.bench;

import dev.errand.AsyncResult;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.cli.Main;
import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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

  /** Worker processes of one scenario, stopped (SIGTERM, then SIGKILL) when closed. */
  final class Workers implements AutoCloseable {
    private final String url;
    private final List<Process> processes = new ArrayList<>();

    Workers(String url) {
      this.url = url;
    }

    Process start(String name, Map<String, String> env, String... extra) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(Main.class.getName());
      cmd.addAll(
          List.of(
              "worker",
              "--app",
              ChaosApp.class.getName(),
              "--broker",
              url,
              "--name",
              name,
              "-c",
              String.valueOf(settings.concurrency()),
              "--lease",
              LEASE.toSeconds() + "s",
              "--shutdown-timeout",
              "5s"));
      cmd.addAll(List.of(extra));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.redirectOutput(settings.dir().resolve(name + ".out").toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      processes.add(p);
      return p;
    }

    /** SIGKILLs the worker process (the supervisor's child) of a random worker. */
    Optional<Long> killOne() {
      Process p = processes.get(ThreadLocalRandom.current().nextInt(processes.size()));
      Optional<ProcessHandle> child = p.descendants().filter(ProcessHandle::isAlive).findFirst();
      child.ifPresent(ProcessHandle::destroyForcibly);
      return child.map(ProcessHandle::pid);
    }

    @Override
    public void close() throws InterruptedException {
      for (Process p : processes) {
        p.toHandle().destroy();
      }
      for (Process p : processes) {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
        }
      }
    }
  }

  /** One scenario's sending, counting and reporting. */
  final class Run {
    final String scenario;
    final String url;
    final Path log;
    final Backend backend;
    final Client client;
    final List<String> ids = new ArrayList<>();
    final Map<String, Long> sentAtNanos = new HashMap<>();
    final Map<String, Duration> countdowns = new HashMap<>();
    final AtomicBoolean sending = new AtomicBoolean(true);

    Run(String scenario, String url) throws IOException {
      this.scenario = scenario;
      this.url = url;
      this.log = settings.dir().resolve(scenario + ".log");
      Files.deleteIfExists(log);
      this.backend = Backends.open(url);
      this.client = Client.create(backend);
    }

    void awaitWorkers(int n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline) {
        try {
          if (backend.workers().live().size() >= n) {
            return;
          }
        } catch (RuntimeException e) {
          // the backend may be starting
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException(n + " workers did not come up within 90 s; see their .out");
    }

    /**
     * Sends {@code count} tasks in batches of 25, four batches a second, retrying a batch the
     * backend refuses (it may be down: that is the experiment); {@code during} runs meanwhile.
     */
    void send(int count, int minMs, int maxMs, Duration countdown) throws InterruptedException {
      int n = 0;
      while (n < count) {
        int batch = Math.min(25, count - n);
        List<ChaosApp.Work> work = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
          work.add(
              new ChaosApp.Work(
                  n + i, ThreadLocalRandom.current().nextInt(minMs, maxMs + 1), log.toString()));
        }
        List<AsyncResult<Integer>> sent = null;
        while (sent == null) {
          try {
            sent =
                client.enqueueAll(
                    ChaosApp.WORK,
                    work,
                    countdown == null
                        ? dev.errand.TaskOptions.none()
                        : dev.errand.TaskOptions.builder().countdown(countdown).build());
          } catch (RuntimeException e) {
            Thread.sleep(250); // not sent: the same batch again
          }
        }
        long now = System.nanoTime();
        synchronized (ids) {
          for (AsyncResult<Integer> r : sent) {
            ids.add(r.id());
            sentAtNanos.put(r.id(), now);
            if (countdown != null) {
              countdowns.put(r.id(), countdown);
            }
          }
        }
        n += batch;
        Thread.sleep(250);
      }
    }

    /** Waits until every sent task is finished, or {@link #SETTLE} passed. */
    void settle() throws InterruptedException {
      long deadline = System.nanoTime() + SETTLE.toNanos();
      while (System.nanoTime() < deadline && unfinished() > 0) {
        Thread.sleep(500);
      }
    }

    int unfinished() {
      int open = 0;
      for (String id : snapshot()) {
        try {
          Optional<TaskStatus> s = backend.results().get(id);
          if (s.isEmpty() || !s.get().state().isReady()) {
            open++;
          }
        } catch (RuntimeException e) {
          return Integer.MAX_VALUE; // backend away: not settled
        }
      }
      return open;
    }

    List<String> snapshot() {
      synchronized (ids) {
        return List.copyOf(ids);
      }
    }

    /** Starts per task id, read from the log the handlers append to. */
    Map<String, Integer> starts() throws IOException {
      Map<String, Integer> starts = new HashMap<>();
      if (Files.exists(log)) {
        for (String line : Files.readAllLines(log)) {
          String[] f = line.split(" ");
          if (f.length >= 2 && f[0].equals("start")) {
            starts.merge(f[1], 1, Integer::sum);
          }
        }
      }
      return starts;
    }

    Report report(String backendName, String notes) throws IOException {
      List<String> sent = snapshot();
      Map<String, Integer> starts = starts();
      int completed = 0;
      int unfinished = 0;
      for (String id : sent) {
        TaskState state = backend.results().get(id).map(TaskStatus::state).orElse(null);
        if (state == TaskState.SUCCESS) {
          completed++;
        } else if (state == null || !state.isReady()) {
          unfinished++;
        }
      }
      long held = 0;
      for (String q : backend.broker().queues()) {
        QueueStats s = backend.broker().stats(q);
        held += s.ready() + s.leased() + s.delayed();
      }
      int executed = 0;
      int duplicates = 0;
      for (String id : sent) {
        int n = starts.getOrDefault(id, 0);
        executed += n > 0 ? 1 : 0;
        duplicates += Math.max(0, n - 1);
      }
      long notConsuming = backend.workers().live().stream().filter(w -> !w.consuming()).count();
      int lost = (int) Math.max(0, unfinished - held);
      int stuck = unfinished - lost + (int) notConsuming;
      return new Report(
          scenario, backendName, sent.size(), executed, completed, duplicates, lost, stuck, notes);
    }

    void close() {
      backend.close();
    }
  }

  /** SIGKILLs a random worker process every 3 s while tasks are sent and run. */
  public Report crashStorm(String url, String backendName) throws Exception {
    Run run = new Run("crash-storm", url);
    try (Workers workers = new Workers(url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("crash-" + i, Map.of());
      }
      run.awaitWorkers(settings.workers());
      int[] kills = {0};
      Thread killer =
          background(
              "killer",
              () -> {
                while (run.sending.get() || run.unfinished() > 0) {
                  sleep(3_000);
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
      sleep(2 * LEASE.toMillis()); // let the last restarted workers report in
      return run.report(backendName, kills[0] + " worker processes SIGKILLed, one every 3 s");
    } finally {
      run.close();
    }
  }

  /** Kills the backend's server mid-run (SIGKILL) and starts it again 3 s later. Redis only. */
  public Report backendRestart() throws Exception {
    Optional<String> server = which("redis-server");
    if (server.isEmpty()) {
      return Report.notRun("backend-restart", "no redis-server on the PATH");
    }
    Path data = Files.createDirectories(settings.dir().resolve("redis-data"));
    int port = freePort();
    OwnRedis redis = new OwnRedis(server.get(), port, data);
    redis.start();
    String url = "redis://127.0.0.1:" + port + "/0?prefix=chaos&timeout=2s";
    Run run = new Run("backend-restart", url);
    try (Workers workers = new Workers(url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("restart-" + i, Map.of());
      }
      run.awaitWorkers(settings.workers());
      Thread chaos =
          background(
              "redis-killer",
              () -> {
                sleep(Math.max(3_000, settings.tasks() / 100 * 1_000 / 3));
                redis.kill();
                sleep(3_000);
                redis.start();
              });
      run.send(settings.tasks(), 20, 200, null);
      run.sending.set(false);
      chaos.join();
      run.settle();
      sleep(2 * LEASE.toMillis());
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
    Run run = new Run("garbage", url);
    try (Workers workers = new Workers(url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("garbage-" + i, Map.of(), "-Q", "default,chaos-garbage");
      }
      run.awaitWorkers(settings.workers());
      long deadBefore = run.backend.deadLetters().count(null);
      Thread chaos =
          background(
              "garbage",
              () -> {
                sleep(2_000);
                injectRaw.accept(run.backend);
              });
      run.send(settings.tasks(), 20, 200, null);
      run.sending.set(false);
      chaos.join();
      run.settle();
      sleep(2 * LEASE.toMillis());
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
    Run run = new Run("clock-skew", url);
    try (Workers workers = new Workers(url)) {
      workers.start("skew-0", Map.of());
      workers.start("skew-ahead", fakeTime(faketime.get(), "+60s"));
      workers.start("skew-behind", fakeTime(faketime.get(), "-60s"));
      run.awaitWorkers(3);
      Map<String, Long> firstSeen = new HashMap<>();
      Thread tail = background("tail", () -> tail(run, firstSeen));
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

  private static Map<String, String> fakeTime(Path lib, String offset) {
    Map<String, String> env = new HashMap<>();
    env.put("LD_PRELOAD", lib.toString());
    env.put("FAKETIME", offset);
    env.put("FAKETIME_DONT_FAKE_MONOTONIC", "1"); // the JVM's timers stay sane
    env.put("FAKETIME_DONT_RESET", "1"); // children (none here) keep the offset
    return env;
  }

  /** Notes when each task's start line first appears in the log, by this process's clock. */
  private void tail(Run run, Map<String, Long> firstSeen) {
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
    if (!"0".equals(run(List.of("id", "-u")).trim())) {
      return Report.notRun("full-disk", "needs root to mount a small tmpfs");
    }
    Path mount = Files.createDirectories(settings.dir().resolve("small-disk"));
    String mounted =
        run(List.of("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mount.toString()));
    if (!isMounted(mount)) {
      return Report.notRun("full-disk", "could not mount a tmpfs: " + mounted.trim());
    }
    String url = "sqlite:" + mount.resolve("chaos.db");
    Run run = new Run("full-disk", url);
    try (Workers workers = new Workers(url)) {
      for (int i = 0; i < settings.workers(); i++) {
        workers.start("disk-" + i, Map.of());
      }
      run.awaitWorkers(settings.workers());
      long[] heldFullMs = {0};
      Thread chaos =
          background(
              "disk-filler",
              () -> {
                sleep(3_000);
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
                  sleep(6_000);
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
      sleep(2 * LEASE.toMillis());
      return run.report(
          "sqlite (48 MiB tmpfs)",
          "disk filled mid-run and held full for " + heldFullMs[0] + " ms");
    } finally {
      run.close();
      run(List.of("umount", "-l", mount.toString()));
    }
  }

  private static boolean isMounted(Path dir) throws IOException {
    return Files.readAllLines(Path.of("/proc/mounts")).stream()
        .anyMatch(l -> l.contains(" " + dir.toAbsolutePath() + " "));
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

  /** A Redis server of the harness's own, with an append-only file fsynced on every write. */
  static final class OwnRedis {
    private final String binary;
    private final int port;
    private final Path dir;
    private Process process;

    OwnRedis(String binary, int port, Path dir) {
      this.binary = binary;
      this.port = port;
      this.dir = dir;
    }

    synchronized void start() {
      try {
        process =
            new ProcessBuilder(
                    binary,
                    "--port",
                    String.valueOf(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    dir.toString(),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.out").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
          try (var s = new java.net.Socket("127.0.0.1", port)) {
            return;
          } catch (IOException notYet) {
            Thread.sleep(50);
          }
        }
        throw new IllegalStateException("redis-server did not start on port " + port);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    synchronized void kill() {
      if (process != null) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  interface Body {
    void run() throws Exception;
  }

  private static Thread background(String name, Body body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (InterruptedException e) {
                // stopped
              } catch (Exception e) {
                e.printStackTrace();
              }
            },
            "chaos-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void sleep(long ms) throws InterruptedException {
    Thread.sleep(ms);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static Optional<String> which(String binary) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir, binary);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  private static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      p.waitFor(30, TimeUnit.SECONDS);
      return output;
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
