package dev.errand.spring.autoconfigure;

import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.Routes;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleSource;
import dev.errand.spi.Backend;
import dev.errand.spring.tx.TransactionAwareBackend;
import dev.errand.worker.Eager;
import dev.errand.worker.TaskInterceptor;
import dev.errand.worker.WorkerListener;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * Errand's auto-configuration: the {@link Backend} (from {@code errand.url}, else the application's
 * PostgreSQL {@link DataSource} when errand-postgres is present, else the SQLite file {@code
 * errand.db}), the {@link Client} (transaction-aware, or eager with {@code errand.eager=true}), the
 * tasks of {@link dev.errand.spring.ErrandTask} beans, and, each when enabled, the worker, the
 * scheduler and the dashboard as lifecycle beans. Every bean backs off when the application
 * declares its own of the same type. See docs/spring.md.
 */
@AutoConfiguration(
    afterName = {
      // Boot 3 and Boot 4 names: the DataSource and the transaction manager come first.
      "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"
    })
@EnableConfigurationProperties(ErrandProperties.class)
public class ErrandAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ErrandAutoConfiguration.class);

  /** The backend used when nothing else is configured. */
  public static final String DEFAULT_URL = "sqlite:errand.db";

  private static final String POSTGRES = "dev.errand.postgres.PostgresBackend";
  private static final String TX =
      "org.springframework.transaction.support.TransactionSynchronizationManager";
  private static final String JDBC = "org.springframework.jdbc.datasource.DataSourceUtils";

  /** Creates the configuration; Spring Boot does. */
  public ErrandAutoConfiguration() {}

  /** Finds the task handlers among the beans (a post-processor, hence static). */
  @Bean
  @ConditionalOnMissingBean
  public static ErrandTaskRegistrar errandTaskRegistrar() {
    return new ErrandTaskRegistrar();
  }

  /** The backend, closed with the context. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Backend errandBackend(
      ErrandProperties properties,
      ObjectProvider<DataSource> dataSources,
      ConfigurableListableBeanFactory beanFactory) {
    ClassLoader loader = beanFactory.getBeanClassLoader();
    String url = properties.getUrl();
    if (url != null) {
      Backend opened;
      try {
        opened = Backends.open(url);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("errand.url: " + e.getMessage(), e);
      }
      log.info("Errand backend: {}", opened.describe()); // describe() hides passwords
      return opened;
    }
    if (ClassUtils.isPresent(POSTGRES, loader)
        && properties.getPostgres().isUseApplicationDataSource()) {
      DataSource ds = dataSources.getIfUnique();
      if (ds != null && PostgresSupport.isPostgres(ds)) {
        String schema = properties.getPostgres().getSchema();
        log.info("Errand backend: the application's PostgreSQL DataSource, schema {}", schema);
        return PostgresSupport.open(ds, schema);
      }
    }
    log.info("Errand backend: {} (set errand.url for another)", DEFAULT_URL);
    return Backends.open(DEFAULT_URL);
  }

  /**
   * The client: eager ({@code errand.eager}), or sending through a backend that follows Spring
   * transactions ({@code errand.transaction.aware}), with the annotations' options and the routes.
   */
  @Bean
  @ConditionalOnMissingBean
  public Client errandClient(
      Backend backend,
      ErrandProperties properties,
      ErrandTaskRegistrar registrar,
      ObjectProvider<DataSource> dataSources,
      ConfigurableListableBeanFactory beanFactory) {
    ClassLoader loader = beanFactory.getBeanClassLoader();
    if (properties.isEager()) {
      return Eager.builder(registrar.registry())
          .stores(backend)
          .propagateExceptions(properties.isEagerPropagateExceptions())
          .build();
    }
    Backend sendTo = backend;
    ErrandProperties.Transaction tx = properties.getTransaction();
    if (tx.isAware() && ClassUtils.isPresent(TX, loader)) {
      DataSource joinable =
          ClassUtils.isPresent(POSTGRES, loader) && ClassUtils.isPresent(JDBC, loader)
              ? PostgresSupport.joinable(backend, dataSources.getIfUnique())
              : null;
      sendTo = new TransactionAwareBackend(backend, joinable, tx.isStrict());
    }
    ErrandProperties.Client c = properties.getClient();
    return Client.builder(sendTo)
        .routes(routes(c.getRoutes()))
        .maxMessageBytes(c.getMaxMessageBytes())
        .sentEvents(c.isSentEvents())
        .taskOptions(registrar::optionsOf)
        .build();
  }

  /** The worker, started when the context is ready ({@code errand.worker.enabled=true}). */
  @Bean
  @ConditionalOnProperty(prefix = "errand.worker", name = "enabled", havingValue = "true")
  @ConditionalOnMissingBean
  public ErrandWorkerLifecycle errandWorker(
      Backend backend,
      Client client,
      ErrandProperties properties,
      ErrandTaskRegistrar registrar,
      ObjectProvider<WorkerListener> listeners,
      ObjectProvider<TaskInterceptor> interceptors,
      Environment environment) {
    ErrandWorkerLifecycle worker =
        new ErrandWorkerLifecycle(
            backend,
            client,
            properties,
            registrar,
            listeners,
            interceptors,
            environment.getProperty("spring.lifecycle.timeout-per-shutdown-phase"));
    try {
      worker.options(); // a bad combination fails startup here, not when the worker starts
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("errand.worker.*: " + e.getMessage(), e);
    }
    return worker;
  }

  /** The scheduler ({@code errand.beat.enabled=true}). */
  @Bean
  @ConditionalOnProperty(prefix = "errand.beat", name = "enabled", havingValue = "true")
  @ConditionalOnMissingBean
  public ErrandBeatLifecycle errandBeat(
      Client client,
      ErrandProperties properties,
      ErrandTaskRegistrar registrar,
      ObjectProvider<Schedule> schedules,
      ObjectProvider<ScheduleSource> sources) {
    return new ErrandBeatLifecycle(client, properties.getBeat(), registrar, schedules, sources);
  }

  private static Routes routes(Map<String, String> rules) {
    if (rules.isEmpty()) {
      return Routes.none();
    }
    Routes.Builder b = Routes.builder();
    rules.forEach(
        (glob, queue) -> {
          try {
            b.route(glob, queue);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "errand.client.routes[" + glob + "]=" + queue + ": " + e.getMessage(), e);
          }
        });
    return b.build();
  }

  /** Keeps errand-postgres's classes out of reach unless it is present. */
  static final class PostgresSupport {
    private PostgresSupport() {}

    static boolean isPostgres(DataSource ds) {
      try (java.sql.Connection c = ds.getConnection()) {
        return "PostgreSQL".equalsIgnoreCase(c.getMetaData().getDatabaseProductName());
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(
            "Errand: cannot reach the application's DataSource to see whether it is PostgreSQL"
                + " (set errand.url to use another backend): "
                + e.getMessage(),
            e);
      }
    }

    /** {@code ds} when {@code backend} stores its tasks in it, else null. */
    static DataSource joinable(Backend backend, DataSource ds) {
      return ds != null
              && backend instanceof dev.errand.postgres.PostgresBackend pg
              && pg.dataSource() == ds
          ? ds
          : null;
    }

    static Backend open(DataSource ds, String schema) {
      return dev.errand.postgres.PostgresBackend.open(ds, schema, java.time.Clock.systemUTC());
    }
  }
}
