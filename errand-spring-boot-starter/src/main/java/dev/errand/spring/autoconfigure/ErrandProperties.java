package dev.errand.spring.autoconfigure;

import dev.errand.worker.Pool;
import dev.errand.worker.QueueOrder;
import dev.errand.worker.WorkerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Errand's settings, bound from {@code errand.*}. A setter refuses a value out of range with an
 * {@link IllegalArgumentException} naming the property and the value, so a bad value fails startup
 * with Spring Boot's report of the property, the value and where it came from. Not thread-safe;
 * read once at startup.
 */
@ConfigurationProperties(prefix = "errand")
public class ErrandProperties {

  /**
   * The backend URL: sqlite:PATH, redis://host:6379/0, rediss://..., redis-sentinel://...,
   * postgresql://user@host/db?schema=errand, memory:NAME. When unset: the application's own
   * PostgreSQL DataSource if errand-postgres is on the class path and the application has one,
   * otherwise the SQLite file errand.db in the working directory.
   */
  private String url;

  /**
   * Run every task inline, in the calling thread, through the worker's own code path (arguments
   * bound from JSON, retries, results stored), instead of sending it: for tests and local runs,
   * like Celery's task_always_eager. No worker is started.
   */
  private boolean eager = false;

  /**
   * Whether an exception thrown by an eagerly run task reaches the caller of enqueue (true), or is
   * only stored as the task's failure (false).
   */
  private boolean eagerPropagateExceptions = true;

  private final Postgres postgres = new Postgres();
  private final Client client = new Client();
  private final Transaction transaction = new Transaction();
  private final Worker worker = new Worker();
  private final Beat beat = new Beat();
  private final Dashboard dashboard = new Dashboard();
  private final Metrics metrics = new Metrics();

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    if (url != null && (url.isBlank() || !url.contains(":"))) {
      throw new IllegalArgumentException(
          "errand.url must be a backend URL such as sqlite:errand.db or redis://localhost:6379/0,"
              + " but was '"
              + url
              + "'");
    }
    this.url = url;
  }

  public boolean isEager() {
    return eager;
  }

  public void setEager(boolean eager) {
    this.eager = eager;
  }

  public boolean isEagerPropagateExceptions() {
    return eagerPropagateExceptions;
  }

  public void setEagerPropagateExceptions(boolean eagerPropagateExceptions) {
    this.eagerPropagateExceptions = eagerPropagateExceptions;
  }

  public Postgres getPostgres() {
    return postgres;
  }

  public Client getClient() {
    return client;
  }

  public Transaction getTransaction() {
    return transaction;
  }

  public Worker getWorker() {
    return worker;
  }

  public Beat getBeat() {
    return beat;
  }

  public Dashboard getDashboard() {
    return dashboard;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  static int atLeast(String property, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(
          property + " must be at least " + min + " but was " + value);
    }
    return value;
  }

  static Duration positive(String property, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(property + " must be longer than 0 but was " + value);
    }
    return value;
  }

  /** {@code errand.postgres.*}: the backend on the application's own DataSource. */
  public static class Postgres {

    /**
     * Use the application's DataSource when errand.url is unset and errand-postgres is on the class
     * path (and the DataSource is PostgreSQL). Then a task enqueued inside a Spring transaction is
     * written in that transaction.
     */
    private boolean useApplicationDataSource = true;

    /** The schema holding Errand's tables on the application's DataSource. */
    private String schema = "errand";

    public boolean isUseApplicationDataSource() {
      return useApplicationDataSource;
    }

    public void setUseApplicationDataSource(boolean useApplicationDataSource) {
      this.useApplicationDataSource = useApplicationDataSource;
    }

    public String getSchema() {
      return schema;
    }

    public void setSchema(String schema) {
      if (schema == null || !SCHEMA.matcher(schema).matches()) {
        throw new IllegalArgumentException(
            "errand.postgres.schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most"
                + " 63 characters) but was '"
                + schema
                + "'");
      }
      this.schema = schema;
    }
  }

  /** {@code errand.client.*}: the {@link dev.errand.Client} bean. */
  public static class Client {

    /** The largest message, in bytes, the client sends; a bigger one is refused at enqueue. */
    private int maxMessageBytes = 1048576;

    /** Whether each enqueue also records a task-sent event (shown by the dashboard). */
    private boolean sentEvents = true;

    /**
     * Routes: task name pattern (glob, * matches any run of characters) to queue, applied in order,
     * for tasks whose call names no queue. Example: errand.client.routes[reports.*]=slow
     */
    private Map<String, String> routes = new LinkedHashMap<>();

    public int getMaxMessageBytes() {
      return maxMessageBytes;
    }

    public void setMaxMessageBytes(int maxMessageBytes) {
      this.maxMessageBytes = atLeast("errand.client.max-message-bytes", maxMessageBytes, 1024);
    }

    public boolean isSentEvents() {
      return sentEvents;
    }

    public void setSentEvents(boolean sentEvents) {
      this.sentEvents = sentEvents;
    }

    public Map<String, String> getRoutes() {
      return routes;
    }

    public void setRoutes(Map<String, String> routes) {
      this.routes = routes;
    }
  }

  /** {@code errand.transaction.*}: enqueue inside a Spring-managed transaction. */
  public static class Transaction {

    /**
     * Make an enqueue inside a Spring transaction follow the transaction: joined to it on
     * PostgreSQL with the application's DataSource, held until after commit (and dropped on
     * rollback) on every other backend. False sends at once, whatever the transaction does.
     */
    private boolean aware = true;

    /**
     * Log a warning for every task enqueued with no transaction active, to find the calls that
     * should be inside one.
     */
    private boolean strict = false;

    public boolean isAware() {
      return aware;
    }

    public void setAware(boolean aware) {
      this.aware = aware;
    }

    public boolean isStrict() {
      return strict;
    }

    public void setStrict(boolean strict) {
      this.strict = strict;
    }
  }

  /** {@code errand.worker.*}: a worker inside the application. */
  public static class Worker {

    /** Run a worker in this application, started when the context is ready. */
    private boolean enabled = false;

    /** The worker's name; default: errand@HOST-PID-N. */
    private String name;

    /** The queues the worker consumes. */
    private List<String> queues = new ArrayList<>(List.of("default"));

    /**
     * How the queues are served: round_robin, strict (in the order listed) or weighted (by
     * errand.worker.queue-weights).
     */
    private QueueOrder queueOrder = QueueOrder.ROUND_ROBIN;

    /** The most tasks run at once; default: the number of CPUs. */
    private int concurrency = WorkerOptions.DEFAULT_CONCURRENCY;

    /**
     * Autoscaling: the fewest tasks run at once when idle (0 = no autoscaling: always
     * errand.worker.concurrency).
     */
    private int minConcurrency = 0;

    /** threads (a platform thread per slot) or virtual (Java 21+). */
    private Pool pool = WorkerOptions.DEFAULT_POOL;

    /** Messages claimed ahead of free slots (0 = the worker's default). */
    private int prefetch = 0;

    /** How long a claimed message is the worker's before another may take it; renewed meanwhile. */
    private Duration leaseDuration = Duration.ofSeconds(30);

    /**
     * How long shutdown waits for running tasks before handing them back; prefetched tasks are
     * handed back at once. Keep it within spring.lifecycle.timeout-per-shutdown-phase.
     */
    private Duration shutdownTimeout = Duration.ofSeconds(30);

    /** Deliveries of one message before it goes to the dead letters (a task that kills workers). */
    private int maxDeliveries = 5;

    /** How long results are kept. */
    private Duration resultExpires = Duration.ofDays(1);

    /** Weights of the queues, with queue-order weighted: queue to weight (default 1 each). */
    private Map<String, Integer> queueWeights = new LinkedHashMap<>();

    /** How often the worker says it is alive (its heartbeat, shown as workers and in health). */
    private Duration heartbeatInterval = Duration.ofSeconds(5);

    /** The longest a claim waits for a message before looking again. */
    private Duration pollInterval = Duration.ofSeconds(1);

    /** A handler thread stuck this long in one task is reported (logs, health, metrics). */
    private Duration stallTimeout = Duration.ofSeconds(10);

    /** Tasks after which the worker stops taking more (0 = no limit). */
    private long maxTasks = 0;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public List<String> getQueues() {
      return queues;
    }

    public void setQueues(List<String> queues) {
      if (queues == null || queues.isEmpty()) {
        throw new IllegalArgumentException("errand.worker.queues must name at least one queue");
      }
      this.queues = queues;
    }

    public QueueOrder getQueueOrder() {
      return queueOrder;
    }

    public void setQueueOrder(QueueOrder queueOrder) {
      this.queueOrder = queueOrder;
    }

    public int getConcurrency() {
      return concurrency;
    }

    public void setConcurrency(int concurrency) {
      this.concurrency = atLeast("errand.worker.concurrency", concurrency, 1);
    }

    public int getMinConcurrency() {
      return minConcurrency;
    }

    public void setMinConcurrency(int minConcurrency) {
      this.minConcurrency = atLeast("errand.worker.min-concurrency", minConcurrency, 0);
    }

    public Pool getPool() {
      return pool;
    }

    public void setPool(Pool pool) {
      this.pool = pool;
    }

    public int getPrefetch() {
      return prefetch;
    }

    public void setPrefetch(int prefetch) {
      this.prefetch = atLeast("errand.worker.prefetch", prefetch, 0);
    }

    public Duration getLeaseDuration() {
      return leaseDuration;
    }

    public void setLeaseDuration(Duration leaseDuration) {
      this.leaseDuration = positive("errand.worker.lease-duration", leaseDuration);
    }

    public Duration getShutdownTimeout() {
      return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
      if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "errand.worker.shutdown-timeout must be 0 or longer but was " + shutdownTimeout);
      }
      this.shutdownTimeout = shutdownTimeout;
    }

    public int getMaxDeliveries() {
      return maxDeliveries;
    }

    public void setMaxDeliveries(int maxDeliveries) {
      this.maxDeliveries = atLeast("errand.worker.max-deliveries", maxDeliveries, 1);
    }

    public Duration getResultExpires() {
      return resultExpires;
    }

    public void setResultExpires(Duration resultExpires) {
      this.resultExpires = positive("errand.worker.result-expires", resultExpires);
    }

    public Map<String, Integer> getQueueWeights() {
      return queueWeights;
    }

    public void setQueueWeights(Map<String, Integer> queueWeights) {
      queueWeights.forEach(
          (q, w) -> atLeast("errand.worker.queue-weights[" + q + "]", w == null ? 0 : w, 1));
      this.queueWeights = queueWeights;
    }

    public Duration getHeartbeatInterval() {
      return heartbeatInterval;
    }

    public void setHeartbeatInterval(Duration heartbeatInterval) {
      this.heartbeatInterval = positive("errand.worker.heartbeat-interval", heartbeatInterval);
    }

    public Duration getPollInterval() {
      return pollInterval;
    }

    public void setPollInterval(Duration pollInterval) {
      this.pollInterval = positive("errand.worker.poll-interval", pollInterval);
    }

    public Duration getStallTimeout() {
      return stallTimeout;
    }

    public void setStallTimeout(Duration stallTimeout) {
      this.stallTimeout = positive("errand.worker.stall-timeout", stallTimeout);
    }

    public long getMaxTasks() {
      return maxTasks;
    }

    public void setMaxTasks(long maxTasks) {
      if (maxTasks < 0) {
        throw new IllegalArgumentException(
            "errand.worker.max-tasks must be at least 0 but was " + maxTasks);
      }
      this.maxTasks = maxTasks;
    }
  }

  /** {@code errand.beat.*}: the scheduler. */
  public static class Beat {

    /**
     * Run the scheduler in this application: schedules from @ErrandSchedule methods and Schedule
     * beans are stored and fired. Any number of instances may run it; one leads at a time.
     */
    private boolean enabled = false;

    /** How long a silent leader keeps the lead before another instance takes over. */
    private Duration failover = Duration.ofSeconds(10);

    /** The schedule group this application's schedules belong to (several apps, one backend). */
    private String group = "beat";

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public Duration getFailover() {
      return failover;
    }

    public void setFailover(Duration failover) {
      this.failover = positive("errand.beat.failover", failover);
    }

    public String getGroup() {
      return group;
    }

    public void setGroup(String group) {
      this.group = group;
    }
  }

  /** {@code errand.dashboard.*}: the web dashboard, on a port of its own. */
  public static class Dashboard {

    /** Serve the dashboard (needs errand-dashboard on the class path). */
    private boolean enabled = false;

    /** Its port (0 = any free port). */
    private int port = 5555;

    /** The address it listens on; anything but loopback needs a token or basic auth. */
    private String bind = "127.0.0.1";

    /** A bearer token that opens it (at least 16 characters). */
    private String token;

    /** The user name of basic authentication (with errand.dashboard.password). */
    private String username;

    /** The password of basic authentication. */
    private String password;

    /** Show only: no retry, revoke, pause or purge. */
    private boolean readOnly = false;

    /** Allow a non-loopback bind without authentication (only behind your own proxy). */
    private boolean insecure = false;

    /**
     * Argument and result field names whose values are masked (replacing the default list:
     * password, token, secret, ...).
     */
    private List<String> mask;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public int getPort() {
      return port;
    }

    public void setPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(
            "errand.dashboard.port must be 0..65535 but was " + port);
      }
      this.port = port;
    }

    public String getBind() {
      return bind;
    }

    public void setBind(String bind) {
      this.bind = bind;
    }

    public String getToken() {
      return token;
    }

    public void setToken(String token) {
      this.token = token;
    }

    public String getUsername() {
      return username;
    }

    public void setUsername(String username) {
      this.username = username;
    }

    public String getPassword() {
      return password;
    }

    public void setPassword(String password) {
      this.password = password;
    }

    public boolean isReadOnly() {
      return readOnly;
    }

    public void setReadOnly(boolean readOnly) {
      this.readOnly = readOnly;
    }

    public boolean isInsecure() {
      return insecure;
    }

    public void setInsecure(boolean insecure) {
      this.insecure = insecure;
    }

    public List<String> getMask() {
      return mask;
    }

    public void setMask(List<String> mask) {
      this.mask = mask;
    }
  }

  /** {@code errand.metrics.*}: Micrometer meters in the application's registry. */
  public static class Metrics {

    /** Bind Errand's meters (queues, dead letters, workers, task outcomes) to the MeterRegistry. */
    private boolean enabled = true;

    /** How often the backend's figures (queue depth, lag) are read. */
    private Duration interval = Duration.ofSeconds(5);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public Duration getInterval() {
      return interval;
    }

    public void setInterval(Duration interval) {
      this.interval = positive("errand.metrics.interval", interval);
    }
  }
}
