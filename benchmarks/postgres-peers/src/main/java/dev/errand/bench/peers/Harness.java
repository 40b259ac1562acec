package dev.errand.bench.peers;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * The workloads of {@code errand bench}, run on one {@link Peer}, in its order: a warm-up (not
 * reported), enqueue one call per job, enqueue in batches of 500, drain, latency.
 */
final class Harness {

  static final int BATCH = 500;
  /** errand bench's idle warm-up rate (probes/s). */
  static final int IDLE_WARMUP_RATE = 500;
  /** The pause between the warm-up probes and the recorded ones, as errand bench. */
  static final long SETTLE_MILLIS = 1_000;
  /** The longest the probes may take to arrive after the last was sent, as errand bench. */
  static final long STRAGGLERS_MILLIS = TimeUnit.MINUTES.toMillis(2);

  static final long DRAIN_TIMEOUT_MINUTES = 15;

  private final Options options;
  private final PrintStream log;
  private final String payload;

  Harness(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
    this.payload = "x".repeat(options.payload());
  }

  Figures run(Peer peer) throws Exception {
    long t0 = System.nanoTime();
    Figures f = new Figures();
    f.product = peer.name();
    f.version = peer.version();
    f.configuration.putAll(peer.configuration());
    f.batchApi = peer.batchApi();
    try {
      say(peer, "creating tables");
      peer.setUp();

      if (options.warmup() > 0) {
        int singles = options.warmupSingles();
        say(
            peer,
            "warm-up: %,d jobs in batches of %d, %,d one at a time, drained (not reported)",
            options.warmup(),
            BATCH,
            singles);
        enqueueInBatches(peer, options.warmup());
        for (int i = 0; i < singles; i++) {
          peer.enqueueOne(payload);
        }
        drain(peer, options.warmup() + singles, null);
        peer.purge();
      }

      f.singles = options.singles();
      say(peer, "enqueue, one call per job: %,d calls from one thread", f.singles);
      long s = System.nanoTime();
      for (int i = 0; i < f.singles; i++) {
        peer.enqueueOne(payload);
      }
      f.enqueueSingle = Stats.perSecond(f.singles, System.nanoTime() - s);
      say(peer, "  %,.0f calls/s", f.enqueueSingle);
      peer.purge();

      f.batched = options.tasks();
      say(peer, "enqueue, batches of %d: %,d jobs", BATCH, f.batched);
      s = System.nanoTime();
      enqueueInBatches(peer, f.batched);
      f.enqueueBatched = Stats.perSecond(f.batched, System.nanoTime() - s);
      say(peer, "  %,.0f jobs/s", f.enqueueBatched);

      say(peer, "drain: %,d no-op jobs, %d threads", f.batched, options.threads());
      drain(peer, f.batched, f);
      say(
          peer,
          "  %,.0f jobs/s first run to last; %,.0f jobs/s from the start (start-up lag %,.0f ms)",
          f.drain,
          f.drainWithStartup,
          f.drainStartupLagMs);
      peer.purge();

      for (Peer.LatencyMode mode : peer.latencyModes()) {
        f.latency.add(latency(peer, mode));
        peer.purge();
      }
    } finally {
      f.seconds = (System.nanoTime() - t0) / 1e9;
    }
    return f;
  }

  private void enqueueInBatches(Peer peer, int n) throws Exception {
    for (int sent = 0; sent < n; sent += BATCH) {
      peer.enqueueBatch(Math.min(BATCH, n - sent), payload);
    }
  }

  /**
   * Starts a worker on {@code n} enqueued no-op jobs and waits until each has run and the product
   * holds none unfinished; timed from the first run to the last (and from the start).
   */
  private void drain(Peer peer, int n, Figures f) throws Exception {
    Recorder.Drain d = new Recorder.Drain(n);
    Recorder.install(d);
    long start = System.nanoTime();
    AutoCloseable worker = peer.startWorker();
    long unfinished;
    try {
      if (!d.await(DRAIN_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            peer.name()
                + ": drain: "
                + d.remaining()
                + " of "
                + n
                + " jobs not run after "
                + DRAIN_TIMEOUT_MINUTES
                + " minutes");
      }
      // The product marks the last jobs done just after their handlers return.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while ((unfinished = peer.unfinished()) > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } finally {
      worker.close();
      Recorder.clear();
    }
    if (unfinished > 0) {
      throw new IllegalStateException(
          peer.name() + ": drain: " + unfinished + " jobs still unfinished 60 s after the last ran");
    }
    if (f != null) {
      long first = d.first.get();
      long last = d.last.get();
      f.drained = n;
      f.drainSpanMs = (last - first) / 1e6;
      f.drain = Stats.perSecond(n, last - first);
      f.drainWithStartup = Stats.perSecond(n, last - start);
      f.drainStartupLagMs = (first - start) / 1e6;
      f.drainExtraRuns = d.runs.get() - n;
      if (f.drainExtraRuns != 0) {
        f.notes.add("drain: " + f.drainExtraRuns + " runs beyond one per job");
      }
    }
  }

  private Figures.Latency latency(Peer peer, Peer.LatencyMode mode) throws Exception {
    int n = options.latencySamples();
    int rate = options.latencyRate();
    int idle = options.idleWarmupProbes();
    say(
        peer,
        "latency (%s): %,d probes at %d/s to an idle, running worker, after %,d at %d/s and %d at"
            + " the rate, unrecorded",
        mode.key(),
        n,
        rate,
        idle,
        IDLE_WARMUP_RATE,
        rate);
    Recorder.Probes p = new Recorder.Probes(n);
    Recorder.install(p);
    AutoCloseable worker = mode.startWorker();
    try {
      Stats.pace(idle, IDLE_WARMUP_RATE, i -> mode.send(-1, payload));
      Stats.pace(rate, rate, i -> mode.send(-1, payload));
      // Let the warm-up probes run, so that the recorded ones find the worker idle.
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STRAGGLERS_MILLIS);
      while (p.warmupRuns.get() < idle + rate && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      Thread.sleep(SETTLE_MILLIS);
      Stats.pace(
          n,
          rate,
          i -> {
            p.callStart[i] = System.nanoTime();
            mode.send(i, payload);
            p.callEnd[i] = System.nanoTime();
          });
      if (!p.await(STRAGGLERS_MILLIS, TimeUnit.MILLISECONDS)) {
        log.printf(
            "[%s] latency (%s): %d of %d probes had not run %d s after the last was sent%n",
            peer.name(),
            mode.key(),
            p.remaining(),
            n,
            STRAGGLERS_MILLIS / 1000);
      }
    } finally {
      worker.close();
      Recorder.clear();
    }
    long[] started = p.startedSnapshot();
    long[] fromReturn = new long[n];
    long[] fromCall = new long[n];
    int recorded = 0;
    int beforeReturn = 0;
    for (int i = 0; i < n; i++) {
      if (started[i] < 0) {
        fromReturn[i] = -1;
        fromCall[i] = -1;
        continue;
      }
      recorded++;
      long sinceReturn = started[i] - p.callEnd[i];
      if (sinceReturn < 0) {
        beforeReturn++;
        sinceReturn = 0;
      }
      fromReturn[i] = sinceReturn;
      fromCall[i] = Math.max(0, started[i] - p.callStart[i]);
    }
    Figures.Latency l =
        new Figures.Latency(
            mode.key(),
            mode.description(),
            n,
            recorded,
            Stats.percentiles(fromReturn),
            Stats.percentiles(fromCall),
            beforeReturn,
            p.duplicates.get());
    say(
        peer,
        "  p50 %.1f / p95 %.1f / p99 %.1f / max %.1f ms (from the enqueue call's return)",
        l.fromReturn().p50(),
        l.fromReturn().p95(),
        l.fromReturn().p99(),
        l.fromReturn().max());
    return l;
  }

  private void say(Peer peer, String format, Object... args) {
    log.printf("[%s] %s%n", peer.name(), String.format(format, args));
    log.flush();
  }
}
