package dev.errand.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.errand.BackendException;
import dev.errand.postgres.internal.JoinedBackend;
import dev.errand.postgres.internal.Migrations;
import dev.errand.postgres.internal.Pg;
import dev.errand.postgres.internal.PgBroker;
import dev.errand.postgres.internal.PgClock;
import dev.errand.postgres.internal.PgErrors;
import dev.errand.postgres.internal.PgJanitor;
import dev.errand.postgres.internal.PgNotifier;
import dev.errand.postgres.internal.PgResultStore;
import dev.errand.postgres.internal.PgScheduleStore;
import dev.errand.postgres.internal.PgSettlements;
import dev.errand.postgres.internal.PgStores;
import dev.errand.postgres.internal.PgWorkflowStore;
import dev.errand.postgres.internal.PostgresUrl;
import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.SettleFaults;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkerRegistry;
import dev.errand.spi.WorkflowStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The PostgreSQL backend: broker, results, dead letters, events, worker heartbeats, schedules and
 * workflows in one schema of the application's own database (PostgreSQL 13 or newer), so that a
 * task can be enqueued inside the application's own transaction ({@link #joining}, {@link
 * dev.errand.Client#inTransaction}). Open one per process and share it; thread-safe.
 *
 * <p>URL form: {@code postgresql://user:password@host:5432/database?schema=errand} (see {@link
 * PostgresUrl} for every parameter), or a {@link DataSource} the application already has.
 *
 * <p>Claims take ready messages with {@code FOR UPDATE SKIP LOCKED}, so consumers in any number of
 * processes never wait on each other's rows; waiting consumers and result waiters are woken by
 * {@code LISTEN/NOTIFY} within a round trip of the commit. The database's clock decides every
 * lease, delay and expiry; {@link #clock()} is this process's clock corrected to it. The tables are
 * created and upgraded by versioned, checksummed migrations on open (see docs/postgres.md).
 */
public final class PostgresBackend implements Backend, SettleFaults {

  /** Events kept by default: the newest {@value}. */
  public static final int DEFAULT_EVENT_CAPACITY = 10_000;

  private final Pg pg;
  private final HikariDataSource ownPool; // null when the application gave its DataSource
  private final Supplier<Connection> listenConnection;
  private final PgNotifier notifier;
  private final ExecutorService background;
  private final Clock clock;
  private final String describe;
  private final AtomicReference<Settlement.Step> fault = new AtomicReference<>();
  private final PgBroker broker;
  private final PgResultStore results;
  private final DeadLetterStore deadLetters;
  private final PgStores.Events events;
  private final WorkerRegistry workers;
  private final ScheduleStore schedules;
  private final PgWorkflowStore workflows; // concrete: settlements record chord parts through it
  private final PgSettlements settlements;
  private final PgJanitor janitor;
  private volatile boolean closed;

  private PostgresBackend(
      DataSource dataSource,
      HikariDataSource ownPool,
      Supplier<Connection> listenConnection,
      String schema,
      boolean migrate,
      Clock given,
      int eventCapacity,
      String describe) {
    this.ownPool = ownPool;
    this.listenConnection = listenConnection;
    this.describe = describe;
    this.background =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "errand-pg-" + schema);
              t.setDaemon(true);
              return t;
            });
    boolean systemClock = BackendProvider.isSystemClock(given);
    try {
      try (Connection c = dataSource.getConnection()) {
        Migrations.run(c, schema, migrate);
        warnIfAutovacuumIsOff(c, schema);
      }
      this.clock = systemClock ? PgClock.open(given, dataSource, describe, background) : given;
    } catch (SQLException e) {
      background.shutdownNow();
      throw PgErrors.failure("open", describe, e);
    }
    this.pg = new Pg(dataSource, schema, systemClock ? null : given, describe);
    this.notifier = new PgNotifier(listenConnection, schema);
    this.janitor = new PgJanitor(pg);
    this.broker = new PgBroker(pg, notifier, janitor::start);
    this.results = new PgResultStore(pg, notifier);
    this.deadLetters = new PgStores.DeadLetters(pg);
    this.events = new PgStores.Events(pg, eventCapacity);
    this.workers = new PgStores.Workers(pg);
    this.schedules = new PgScheduleStore(pg);
    this.workflows = new PgWorkflowStore(pg);
    this.settlements = new PgSettlements(pg, broker, results, workflows);
  }

  /**
   * Opens the backend at {@code url} ({@code postgresql://...}, {@code postgres://...} or {@code
   * jdbc:postgresql://...}) with a pool of its own, creating or upgrading its tables unless the URL
   * says {@code migrate=false}. With the system clock (in any zone) the database's clock decides
   * every time; with any other clock (tests), that clock does.
   *
   * @throws IllegalArgumentException naming the URL (password hidden) and what is wrong with it
   * @throws BackendException if the database cannot be reached or its schema is newer or changed
   */
  public static PostgresBackend open(String url, Clock clock) {
    int events = PostgresUrl.parse(url).events();
    return open(url, clock, events > 0 ? events : DEFAULT_EVENT_CAPACITY);
  }

  /** {@link #open(String, Clock)} keeping the newest {@code eventCapacity} events. */
  public static PostgresBackend open(String url, Clock clock, int eventCapacity) {
    Objects.requireNonNull(clock, "clock");
    checkCapacity(eventCapacity);
    PostgresUrl u = PostgresUrl.parse(url);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(u.jdbcUrl());
    if (u.user() != null) {
      config.setUsername(u.user());
    }
    if (u.password() != null) {
      config.setPassword(u.password());
    }
    config.setMaximumPoolSize(u.poolSize());
    config.setMinimumIdle(Math.min(2, u.poolSize()));
    config.setPoolName("errand-" + u.schema());
    // Fail fast when the server is down: the caller (a worker) retries, and says why meanwhile.
    config.setConnectionTimeout(5_000);
    config.setInitializationFailTimeout(-1);
    config.addDataSourceProperty("ApplicationName", "errand");
    // PostgreSQL's own prepared statements, reused across units of work on the same connection.
    config.addDataSourceProperty("prepareThreshold", "1");
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    HikariDataSource pool = new HikariDataSource(config);
    Supplier<Connection> listen =
        () -> {
          Properties p = new Properties();
          if (u.user() != null) {
            p.setProperty("user", u.user());
          }
          if (u.password() != null) {
            p.setProperty("password", u.password());
          }
          p.setProperty("ApplicationName", "errand-listen");
          p.setProperty("tcpKeepAlive", "true");
          try {
            return DriverManager.getConnection(u.jdbcUrl(), p);
          } catch (SQLException e) {
            throw PgErrors.failure("listen", u.redacted(), e);
          }
        };
    try {
      return new PostgresBackend(
          pool, pool, listen, u.schema(), u.migrate(), clock, eventCapacity, u.redacted());
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  /**
   * Opens the backend on a {@link DataSource} the application already has (its pool), in {@code
   * schema}, creating or upgrading the tables. The wake-up listener holds one connection of it for
   * as long as something waits. The data source is not closed by {@link #close()}.
   *
   * @throws IllegalArgumentException if the schema name is not a plain lower-case identifier
   */
  public static PostgresBackend open(DataSource dataSource, String schema, Clock clock) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(clock, "clock");
    Pg.checkSchema(schema);
    Supplier<Connection> listen =
        () -> {
          try {
            return dataSource.getConnection();
          } catch (SQLException e) {
            throw PgErrors.failure("listen", "schema " + schema, e);
          }
        };
    return new PostgresBackend(
        dataSource,
        null,
        listen,
        schema,
        true,
        clock,
        DEFAULT_EVENT_CAPACITY,
        "postgresql (application DataSource) schema " + schema);
  }

  /**
   * Every task inserts, updates and deletes a row of {@code messages}: without autovacuum, dead
   * rows pile up and every claim wades through them. Said once per backend opened, as a warning:
   * the setting is the server's, not Errand's to change.
   */
  private static void warnIfAutovacuumIsOff(Connection c, String schema) throws SQLException {
    try (java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SHOW autovacuum")) {
      if (rs.next() && "off".equalsIgnoreCase(rs.getString(1))) {
        org.slf4j.LoggerFactory.getLogger(PostgresBackend.class)
            .warn(
                "autovacuum is off on this PostgreSQL server: the dead rows of {}.messages, results"
                    + " and events will pile up and slow every claim; turn it on, or run VACUUM on"
                    + " them regularly (docs/postgres.md#vacuum)",
                schema);
      }
    }
  }

  private static void checkCapacity(int eventCapacity) {
    if (eventCapacity <= 0) {
      throw new IllegalArgumentException("eventCapacity must be > 0 but was " + eventCapacity);
    }
  }

  /** The schema holding the tables. */
  public String schema() {
    return pg.schema();
  }

  /** The data source the backend takes its connections from. */
  public DataSource dataSource() {
    return pg.dataSource();
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return results;
  }

  @Override
  public DeadLetterStore deadLetters() {
    return deadLetters;
  }

  @Override
  public EventStore events() {
    return events;
  }

  @Override
  public WorkerRegistry workers() {
    return workers;
  }

  @Override
  public ScheduleStore schedules() {
    return schedules;
  }

  @Override
  public WorkflowStore workflows() {
    return workflows;
  }

  /**
   * With the system clock: this process's clock corrected by its offset to the database's (measured
   * at open and every 30 s); else the clock the backend was opened with.
   */
  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    return settlements.settle(batch, ttl, fault.getAndSet(null));
  }

  @Override
  public void failNextSettleAfter(Settlement.Step step) {
    fault.set(Objects.requireNonNull(step, "step"));
  }

  /**
   * A view of this backend that enqueues inside the caller's transaction on {@code connection},
   * which must be a connection to this backend's database with auto-commit off: the messages, their
   * keys and their "sent" events are written with the caller's statements, and the workers are
   * notified when, and only if, it commits. See {@link dev.errand.Client#inTransaction}.
   */
  @Override
  public Backend joining(Connection connection) {
    Objects.requireNonNull(connection, "connection");
    return new JoinedBackend(this, pg, broker, events, connection);
  }

  /**
   * Deletes expired results, revocations, once keys, idempotency keys, heartbeats, groups, chords
   * and idle limit keys now (the janitor does this every 30 s in consumer processes).
   *
   * @return how many rows were deleted
   */
  public long purgeExpired() {
    return janitor.purge();
  }

  @Override
  public String describe() {
    return describe;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    broker.wakeup();
    notifier.close();
    background.shutdownNow();
    janitor.close();
    events.close();
    results.close();
    if (ownPool != null) {
      ownPool.close();
    }
  }
}
