package dev.errand.cli.internal.bench;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import dev.errand.workflow.Chain;
import dev.errand.workflow.Signature;
import dev.errand.workflow.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * Times Errand's workflows as {@code benchmarks/celery/celery_workflows.py} times Celery's: a chord
 * of N no-op members with a callback (from the moment sending starts to the moment the callback has
 * run), and a chain of M steps each adding one to the previous result (to the moment the last
 * step's result is read). One worker in this process consumes a queue of the bench's own.
 */
public final class WorkflowBench {

  static final TaskDef<Integer, Integer> NOOP =
      TaskDef.of("bench.wf_noop", Integer.class, Integer.class);

  static final TaskDef<Integer, Integer> STEP =
      TaskDef.of("bench.wf_step", Integer.class, Integer.class);

  @SuppressWarnings({"rawtypes", "unchecked"})
  static final TaskDef<List, Long> COLLECT = TaskDef.of("bench.wf_collect", List.class, Long.class);

  /**
   * What to run.
   *
   * @param members chord members
   * @param steps chain steps
   * @param warmup untimed runs of each workflow first (the JIT compiles the hot path during the
   *     first few; a worker that has been up for a minute runs compiled code)
   * @param runs times each workflow runs, timed
   * @param concurrency worker slots
   * @param prefetch messages the worker holds beyond its slots (0: its default)
   * @param timeout the longest one workflow may take
   * @param serverCpu the backend server's CPU seconds so far, or null if it cannot tell
   */
  public record Settings(
      int members,
      int steps,
      int warmup,
      int runs,
      int concurrency,
      int prefetch,
      Duration timeout,
      DoubleSupplier serverCpu) {}

  /**
   * One run of one workflow.
   *
   * @param seconds from the start of sending to its end having run
   * @param sendSeconds how long sending took
   * @param ok whether the result was right (every member's value seen, the chain's count)
   * @param cpuSeconds CPU time this process used during the run (producer and worker together)
   * @param serverCpuSeconds CPU time the backend server used during the run, NaN if unknown
   */
  public record Run(
      double seconds, double sendSeconds, boolean ok, double cpuSeconds, double serverCpuSeconds) {}

  /** The runs of each workflow, in order. */
  public record Result(List<Run> chord, List<Run> chain) {}

  private final Backend backend;
  private final Settings settings;
  private final String queue;
  private final AtomicLong callbackDoneAt = new AtomicLong();
  private volatile CountDownLatch callbackDone = new CountDownLatch(1);
  private volatile long callbackSum;

  public WorkflowBench(Backend backend, Settings settings, String queue) {
    this.backend = backend;
    this.settings = settings;
    this.queue = queue;
  }

  /** Runs every workflow {@code runs} times with one worker; the worker is stopped at the end. */
  public Result run() throws InterruptedException {
    Worker worker = worker().start();
    try {
      Client client = Client.builder(backend).sentEvents(false).build();
      TaskOptions onQueue = TaskOptions.builder().queue(queue).build();
      for (int i = 0; i < settings.warmup(); i++) {
        chord(client, onQueue);
        chain(client, onQueue);
      }
      List<Run> chords = new ArrayList<>();
      List<Run> chains = new ArrayList<>();
      for (int i = 0; i < settings.runs(); i++) {
        chords.add(chord(client, onQueue));
        chains.add(chain(client, onQueue));
      }
      return new Result(chords, chains);
    } finally {
      worker.shutdown(Duration.ofSeconds(30));
    }
  }

  private Run chord(Client client, TaskOptions onQueue) throws InterruptedException {
    callbackDone = new CountDownLatch(1);
    List<Signature<Integer>> members = new ArrayList<>(settings.members());
    for (int i = 0; i < settings.members(); i++) {
      members.add(Signature.of(NOOP, i).options(onQueue));
    }
    Cpu cpu = new Cpu();
    long t0 = System.nanoTime();
    client.send(
        Workflows.chord(Workflows.group(members), Signature.receiving(COLLECT).options(onQueue)));
    long sent = System.nanoTime();
    if (!callbackDone.await(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "the chord's callback did not run within " + settings.timeout());
    }
    long n = settings.members();
    return cpu.run(
        (callbackDoneAt.get() - t0) / 1e9, (sent - t0) / 1e9, callbackSum == n * (n - 1) / 2);
  }

  private Run chain(Client client, TaskOptions onQueue) throws InterruptedException {
    Chain<Integer> chain = Chain.of(Signature.of(STEP, 0).options(onQueue));
    for (int i = 1; i < settings.steps(); i++) {
      chain = chain.then(Signature.receiving(STEP).options(onQueue));
    }
    Cpu cpu = new Cpu();
    long t0 = System.nanoTime();
    AsyncResult<Integer> end = client.send(chain);
    long sent = System.nanoTime();
    Integer value = end.get(settings.timeout());
    return cpu.run((System.nanoTime() - t0) / 1e9, (sent - t0) / 1e9, value == settings.steps());
  }

  /** The CPU time used by this process and by the server, from its creation to a run's end. */
  private final class Cpu {
    private final long process = Bench.processCpuNanos();
    private final double server = serverCpu();

    Run run(double seconds, double sendSeconds, boolean ok) {
      return new Run(
          seconds,
          sendSeconds,
          ok,
          (Bench.processCpuNanos() - process) / 1e9,
          serverCpu() - server);
    }
  }

  private double serverCpu() {
    return settings.serverCpu() == null ? Double.NaN : settings.serverCpu().getAsDouble();
  }

  private Worker worker() {
    TaskRegistry tasks =
        new TaskRegistry()
            .handle(NOOP, (x, ctx) -> x)
            .handle(STEP, (x, ctx) -> x + 1)
            .handle(
                COLLECT,
                (list, ctx) -> {
                  long sum = 0;
                  for (Object o : list) {
                    sum += ((Number) o).longValue();
                  }
                  callbackSum = sum;
                  callbackDoneAt.set(System.nanoTime());
                  callbackDone.countDown();
                  return sum;
                });
    WorkerOptions.Builder options =
        WorkerOptions.builder()
            .name("bench-workflows")
            .queues(queue)
            .concurrency(settings.concurrency())
            .resultExpires(Duration.ofMinutes(10))
            .pollInterval(Duration.ofMillis(100));
    if (settings.prefetch() > 0) {
      options.prefetch(settings.prefetch());
    }
    return Worker.builder(backend).tasks(tasks).options(options.build()).build();
  }
}
