package dev.errand.bench.peers;

import java.util.List;

/** The command line. */
record Options(
    String jdbc,
    List<String> products,
    int tasks,
    int latencySamples,
    int latencyRate,
    int threads,
    int warmup,
    int payload,
    long dbSchedulerPollMillis,
    int jobrunrPollSeconds,
    boolean json) {

  static final String DB_SCHEDULER = "db-scheduler";
  static final String JOBRUNR = "jobrunr";

  static final String USAGE =
      """
      usage: java -jar target/postgres-peers.jar [options]

        --jdbc URL                 PostgreSQL JDBC URL
                                   (default jdbc:postgresql://127.0.0.1:5432/test?user=postgres)
        --only NAME                db-scheduler | jobrunr | all (default all)
        --tasks N                  jobs enqueued in batches and drained (default 20000); the
                                   one-call-per-job step makes min(N, 10000) calls
        --threads N                worker threads of the scheduler / server (default 8)
        --latency-samples N        recorded latency probes (default 1000)
        --latency-rate N           probes per second (default 50)
        --warmup N                 unreported warm-up jobs, as errand bench's --warmup
                                   (default 20000; 0 for none)
        --payload BYTES            bytes of payload per job (default 100, as errand bench)
        --db-scheduler-poll-ms N   db-scheduler pollingInterval (default 100)
        --jobrunr-poll-seconds N   JobRunr pollInterval (default 5, the smallest it accepts)
        --json                     print one JSON object on stdout (the tables go to stderr)
        --help

      Each product gets tables of its own in a fresh schema (peers_bench_<hex>), dropped at
      the end.
      """;

  static Options parse(String[] args) {
    String jdbc = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    String only = "all";
    int tasks = 20_000;
    int samples = 1_000;
    int rate = 50;
    int threads = 8;
    int warmup = 20_000;
    int payload = 100;
    long dbsPoll = 100;
    int jrPoll = 5;
    boolean json = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        v = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      switch (a) {
        case "--help", "-h" -> throw new Usage(null);
        case "--json" -> json = true;
        case "--jdbc" -> jdbc = v != null ? v : value(args, ++i, a);
        case "--only" -> only = v != null ? v : value(args, ++i, a);
        case "--tasks" -> tasks = positive(a, v != null ? v : value(args, ++i, a));
        case "--latency-samples" -> samples = positive(a, v != null ? v : value(args, ++i, a));
        case "--latency-rate" -> rate = positive(a, v != null ? v : value(args, ++i, a));
        case "--threads" -> threads = positive(a, v != null ? v : value(args, ++i, a));
        case "--warmup" -> warmup = atLeastZero(a, v != null ? v : value(args, ++i, a));
        case "--payload" -> payload = atLeastZero(a, v != null ? v : value(args, ++i, a));
        case "--db-scheduler-poll-ms" -> dbsPoll = positive(a, v != null ? v : value(args, ++i, a));
        case "--jobrunr-poll-seconds" -> jrPoll = positive(a, v != null ? v : value(args, ++i, a));
        default -> throw new Usage("unknown option " + args[i]);
      }
    }
    List<String> products =
        switch (only) {
          case "all" -> List.of(DB_SCHEDULER, JOBRUNR);
          case DB_SCHEDULER -> List.of(DB_SCHEDULER);
          case JOBRUNR -> List.of(JOBRUNR);
          default -> throw new Usage("--only must be db-scheduler, jobrunr or all but was " + only);
        };
    if (!jdbc.startsWith("jdbc:postgresql:")) {
      throw new Usage("--jdbc must be a jdbc:postgresql: URL but was " + jdbc);
    }
    if (rate > 10_000) {
      throw new Usage("--latency-rate must be 1-10000 but was " + rate);
    }
    return new Options(
        jdbc, products, tasks, samples, rate, threads, warmup, payload, dbsPoll, jrPoll, json);
  }

  /** Calls of the one-call-per-job step, as errand bench: at most 10,000. */
  int singles() {
    return Math.min(tasks, 10_000);
  }

  /** Jobs of the warm-up sent one at a time, as errand bench: a fifth, at least 2,000. */
  int warmupSingles() {
    return warmup == 0 ? 0 : Math.max(2_000, warmup / 5);
  }

  /** Unrecorded probes on the idle path, as errand bench: a quarter of the warm-up. */
  int idleWarmupProbes() {
    return warmup / 4;
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new Usage(name + " needs a value");
    }
    return args[i];
  }

  private static int positive(String name, String v) {
    int n = integer(name, v);
    if (n <= 0) {
      throw new Usage(name + " must be > 0 but was " + v);
    }
    return n;
  }

  private static int atLeastZero(String name, String v) {
    int n = integer(name, v);
    if (n < 0) {
      throw new Usage(name + " must be >= 0 but was " + v);
    }
    return n;
  }

  private static int integer(String name, String v) {
    try {
      return Integer.parseInt(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new Usage(name + " must be a number but was " + v);
    }
  }

  /** A bad command line (message null: --help). */
  static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }
}
