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

/** The moving parts of a {@link Chaos} scenario: its worker processes, and its tasks' fate. */
final class ChaosRun {

  private ChaosRun() {}

  /** Worker processes of one scenario, stopped (SIGTERM, then SIGKILL) when closed. */
  static final class Workers implements AutoCloseable {
    private final Chaos.Settings settings;
    private final String url;
    private final List<Process> processes = new ArrayList<>();

    Workers(Chaos.Settings settings, String url) {
      this.settings = settings;
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
              Chaos.LEASE.toSeconds() + "s",
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
  static final class Run {
    final Chaos.Settings settings;
    final String scenario;
    final String url;
    final Path log;
    final Backend backend;
    final Client client;
    final List<String> ids = new ArrayList<>();
    final Map<String, Long> sentAtNanos = new HashMap<>();
    final Map<String, Duration> countdowns = new HashMap<>();
    final AtomicBoolean sending = new AtomicBoolean(true);

    Run(Chaos.Settings settings, String scenario, String url) throws IOException {
      this.settings = settings;
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

    /** Waits until every sent task is finished, or {@link Chaos#SETTLE} passed. */
    void settle() throws InterruptedException {
      long deadline = System.nanoTime() + Chaos.SETTLE.toNanos();
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

    Chaos.Report report(String backendName, String notes) throws IOException {
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
      return new Chaos.Report(
          scenario, backendName, sent.size(), executed, completed, duplicates, lost, stuck, notes);
    }

    void close() {
      backend.close();
    }
  }
}
