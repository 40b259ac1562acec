package dev.errand.bench.peers;

import static org.jobrunr.server.BackgroundJobServerConfiguration.usingStandardBackgroundJobServerConfiguration;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.jobrunr.configuration.JobRunr;
import org.jobrunr.scheduling.JobScheduler;
import org.jobrunr.server.BackgroundJobServer;
import org.jobrunr.server.BackgroundJobServerConfiguration;
import org.jobrunr.storage.StorageProviderUtils.DatabaseOptions;
import org.jobrunr.storage.sql.postgres.PostgresStorageProvider;
import org.jobrunr.utils.mapper.JsonMapper;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;

/**
 * JobRunr (open source): its {@link PostgresStorageProvider} creates its tables itself (migrations)
 * under the table prefix {@code <schema>.}, so they land in the bench's schema. Jobs are enqueued
 * with the {@link JobScheduler} of {@code JobRunr.configure()...initialize()}, run by a {@link
 * BackgroundJobServer} with the configured workers and the shortest poll interval JobRunr accepts
 * for a SQL database, 5 s.
 */
final class JobRunrPeer implements Peer {

  static final String VERSION = "8.2.0";

  private final Options options;
  private final String schema;
  private final String prefix;

  private HikariDataSource pool;
  private PostgresStorageProvider storage;
  private JsonMapper jsonMapper;
  private JobScheduler scheduler;

  JobRunrPeer(Options options, String schema) {
    this.options = options;
    this.schema = schema;
    this.prefix = schema + ".";
  }

  @Override
  public String name() {
    return Options.JOBRUNR;
  }

  @Override
  public String version() {
    return VERSION;
  }

  @Override
  public Map<String, String> configuration() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put(
        "storage",
        "PostgresStorageProvider(dataSource, \"" + prefix + "\", DatabaseOptions.CREATE)");
    c.put("json", "JacksonJsonMapper (jackson-databind 2.20.1)");
    c.put("enqueue client", "JobRunr.configure().useStorageProvider(..).initialize().getJobScheduler()");
    c.put(
        "server",
        "BackgroundJobServer, usingStandardBackgroundJobServerConfiguration().andWorkerCount("
            + options.threads()
            + ").andPollInterval("
            + options.jobrunrPollSeconds()
            + " s) (default 15 s; JobRunr refuses < 5 s on SQL storage)");
    c.put("job", "JobRunrJobs.noop(String of " + options.payload() + " chars), a static method");
    c.put("connection pool", "HikariCP, " + poolSize() + " connections, auto-commit");
    return c;
  }

  @Override
  public String batchApi() {
    return "JobScheduler.enqueue(Stream<Integer> of the batch, i -> JobRunrJobs.noop(payload))";
  }

  private int poolSize() {
    return options.threads() + 4;
  }

  @Override
  public void setUp() {
    pool = Db.pool(options.jdbc(), schema, "jobrunr", poolSize());
    jsonMapper = new JacksonJsonMapper();
    storage = new PostgresStorageProvider(pool, prefix, DatabaseOptions.CREATE);
    scheduler =
        JobRunr.configure()
            .useJsonMapper(jsonMapper)
            .useStorageProvider(storage)
            .initialize()
            .getJobScheduler();
  }

  @Override
  public void enqueueOne(String payload) {
    scheduler.enqueue(() -> JobRunrJobs.noop(payload));
  }

  @Override
  public void enqueueBatch(int n, String payload) {
    scheduler.enqueue(IntStream.range(0, n).boxed(), i -> JobRunrJobs.noop(payload));
  }

  /**
   * A server as {@code JobRunr.configure().useBackgroundJobServer(configuration)} makes it (that
   * method is this constructor, {@code setJobFilters} and {@code start}), made anew for each step
   * so that each is timed from a fresh start.
   */
  @Override
  public AutoCloseable startWorker() {
    BackgroundJobServerConfiguration configuration =
        usingStandardBackgroundJobServerConfiguration()
            .andWorkerCount(options.threads())
            .andPollInterval(Duration.ofSeconds(options.jobrunrPollSeconds()));
    BackgroundJobServer server = new BackgroundJobServer(storage, jsonMapper, null, configuration);
    server.setJobFilters(new ArrayList<>());
    server.start();
    return server::stop;
  }

  @Override
  public long unfinished() throws Exception {
    return Db.count(pool, "select count(*) from " + prefix + "jobrunr_jobs where state <> 'SUCCEEDED'");
  }

  @Override
  public void purge() throws Exception {
    // Succeeded jobs stay 36 h by default; between steps the bench removes every job.
    Db.update(pool, "delete from " + prefix + "jobrunr_jobs");
  }

  @Override
  public List<LatencyMode> latencyModes() {
    return List.of(
        new LatencyMode() {
          @Override
          public String key() {
            return "poll";
          }

          @Override
          public String description() {
            return "enqueued with JobScheduler.enqueue(..), found by the server's JobSteward (every "
                + options.jobrunrPollSeconds()
                + " s, and whenever a worker falls idle)";
          }

          @Override
          public AutoCloseable startWorker() {
            return JobRunrPeer.this.startWorker();
          }

          @Override
          public void send(int seq, String payload) {
            scheduler.enqueue(() -> JobRunrJobs.probe(seq, payload));
          }
        });
  }

  @Override
  public void close() {
    if (storage != null) {
      storage.close();
    }
    if (pool != null) {
      pool.close();
    }
  }
}
