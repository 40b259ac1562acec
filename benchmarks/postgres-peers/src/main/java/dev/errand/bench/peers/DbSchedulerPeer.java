package dev.errand.bench.peers;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * db-scheduler: one-time tasks in its single table, {@code scheduled_tasks}, created from the
 * PostgreSQL DDL of its repository (resource {@code db-scheduler/postgresql_tables.sql}).
 *
 * <p>Enqueue calls go through a {@link SchedulerClient} built on its own, as a web application that
 * only schedules would have it; the worker is a {@link Scheduler} with the polling strategy its
 * README recommends for high throughput on PostgreSQL, {@code lock-and-fetch} ({@code select for
 * update skip locked}) with the fractions it gives for that ({@code 1.0, 4.0}), and a short polling
 * interval.
 */
final class DbSchedulerPeer implements Peer {

  static final String VERSION = "16.7.1";
  static final double LOWER_LIMIT_FRACTION_OF_THREADS = 1.0;
  static final double UPPER_LIMIT_FRACTION_OF_THREADS = 4.0;

  private final Options options;
  private final String schema;
  private final String table;
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong schedulers = new AtomicLong();

  private final OneTimeTask<String> noop =
      Tasks.oneTime("bench-noop", String.class).execute((instance, ctx) -> Recorder.noop());
  private final OneTimeTask<String> probe =
      Tasks.oneTime("bench-probe", String.class)
          .execute((instance, ctx) -> Recorder.probe(probeSeq(instance.getId())));

  private HikariDataSource pool;
  private SchedulerClient client;

  DbSchedulerPeer(Options options, String schema) {
    this.options = options;
    this.schema = schema;
    this.table = schema + ".scheduled_tasks";
  }

  @Override
  public String name() {
    return Options.DB_SCHEDULER;
  }

  @Override
  public String version() {
    return VERSION;
  }

  @Override
  public Map<String, String> configuration() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("table", table + " (postgresql_tables.sql of db-scheduler " + VERSION + ")");
    c.put(
        "enqueue client",
        "SchedulerClient.Builder.create(dataSource, tasks).tableName(..).build(),"
            + " scheduleIfNotExists(instance, Instant.now()) (16.x deprecates schedule(..), which"
            + " calls it)");
    c.put("threads", Integer.toString(options.threads()));
    c.put(
        "polling strategy",
        "pollUsingLockAndFetch("
            + LOWER_LIMIT_FRACTION_OF_THREADS
            + ", "
            + UPPER_LIMIT_FRACTION_OF_THREADS
            + ") (select for update skip locked; README: '1.0, 4.0' for high throughput)");
    c.put("pollingInterval", options.dbSchedulerPollMillis() + " ms (default 10 s)");
    c.put("task data", "String of " + options.payload() + " chars, default Java serialization");
    c.put("connection pool", "HikariCP, " + poolSize() + " connections, auto-commit");
    return c;
  }

  @Override
  public String batchApi() {
    return "SchedulerClient.scheduleBatch(List<TaskInstance>, Instant.now()): one JDBC batch insert";
  }

  @Override
  public void setUp() throws Exception {
    pool = Db.pool(options.jdbc(), schema, "db-scheduler", poolSize());
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      // The DDL names the table unqualified; the connection's search path is the bench's schema.
      for (String statement : ddl().replaceAll("(?m)^\\s*--.*$", "").split(";")) {
        String sql = statement.trim();
        if (!sql.isEmpty()) {
          s.execute(sql);
        }
      }
    }
    client = SchedulerClient.Builder.create(pool, noop, probe).tableName(table).build();
  }

  private int poolSize() {
    return options.threads() + 4;
  }

  private static String ddl() throws IOException {
    try (InputStream in =
        DbSchedulerPeer.class.getResourceAsStream("/db-scheduler/postgresql_tables.sql")) {
      if (in == null) {
        throw new IOException("resource db-scheduler/postgresql_tables.sql is missing");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Override
  public void enqueueOne(String payload) {
    client.scheduleIfNotExists(noop.instance("n" + ids.incrementAndGet(), payload), Instant.now());
  }

  @Override
  public void enqueueBatch(int n, String payload) {
    List<TaskInstance<?>> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      batch.add(noop.instance("n" + ids.incrementAndGet(), payload));
    }
    client.scheduleBatch(batch, Instant.now());
  }

  /** The scheduler, as the drain and the latency steps start it. */
  private Scheduler scheduler(boolean immediateExecution) {
    var builder =
        Scheduler.create(pool, noop, probe)
            .tableName(table)
            .schedulerName(new SchedulerName.Fixed("peers-bench-" + schedulers.incrementAndGet()))
            .threads(options.threads())
            .pollUsingLockAndFetch(LOWER_LIMIT_FRACTION_OF_THREADS, UPPER_LIMIT_FRACTION_OF_THREADS)
            .pollingInterval(Duration.ofMillis(options.dbSchedulerPollMillis()))
            .shutdownMaxWait(Duration.ofSeconds(10));
    if (immediateExecution) {
      builder.enableImmediateExecution();
    }
    return builder.build();
  }

  @Override
  public AutoCloseable startWorker() {
    Scheduler s = scheduler(false);
    s.start();
    return s::stop;
  }

  @Override
  public long unfinished() throws Exception {
    // A one-time task's row is deleted when it completes.
    return Db.count(pool, "select count(*) from " + table);
  }

  @Override
  public void purge() throws Exception {
    Db.update(pool, "delete from " + table);
  }

  @Override
  public List<LatencyMode> latencyModes() {
    return List.of(new Polling(), new Immediate());
  }

  /** Probes sent from a separate SchedulerClient: found by polling. */
  private final class Polling implements LatencyMode {
    @Override
    public String key() {
      return "poll";
    }

    @Override
    public String description() {
      return "enqueued with a separate SchedulerClient, found by polling every "
          + options.dbSchedulerPollMillis()
          + " ms";
    }

    @Override
    public AutoCloseable startWorker() {
      return DbSchedulerPeer.this.startWorker();
    }

    @Override
    public void send(int seq, String payload) {
      client.scheduleIfNotExists(probe.instance(probeId(seq), payload), Instant.now());
    }
  }

  /**
   * Probes scheduled through the running Scheduler itself with {@code enableImmediateExecution()}:
   * it then checks for due executions at once (only when the job is scheduled in the same JVM).
   */
  private final class Immediate implements LatencyMode {
    private Scheduler scheduler;

    @Override
    public String key() {
      return "immediate";
    }

    @Override
    public String description() {
      return "enqueued with scheduleIfNotExists(..) of the running scheduler, enableImmediateExecution()"
          + " (same JVM only)";
    }

    @Override
    public AutoCloseable startWorker() {
      Scheduler s = scheduler(true);
      s.start();
      scheduler = s;
      return () -> {
        scheduler = null;
        s.stop();
      };
    }

    @Override
    public void send(int seq, String payload) {
      scheduler.scheduleIfNotExists(probe.instance(probeId(seq), payload), Instant.now());
    }
  }

  private String probeId(int seq) {
    return (seq < 0 ? "w" : "p" + seq + "-") + ids.incrementAndGet();
  }

  /** The sequence number of a recorded probe ("p12-345"), -1 for a warm-up one ("w678"). */
  static int probeSeq(String id) {
    if (id.charAt(0) != 'p') {
      return -1;
    }
    return Integer.parseInt(id, 1, id.indexOf('-'), 10);
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.close();
    }
  }
}
