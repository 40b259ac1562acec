package dev.errand.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.dashboard.Dashboard;
import dev.errand.memory.InMemoryBackend;
import dev.errand.metrics.BackendMetrics;
import dev.errand.metrics.WorkerMetrics;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.Schedules;
import dev.errand.spi.Backend;
import dev.errand.spring.ErrandSchedule;
import dev.errand.spring.ErrandTask;
import dev.errand.spring.actuate.ErrandActuatorAutoConfiguration;
import dev.errand.spring.actuate.ErrandHealthIndicator;
import dev.errand.spring.tx.TransactionAwareBackend;
import dev.errand.worker.TaskContext;
import dev.errand.worker.TaskHandler;
import dev.errand.worker.WorkerOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/** Every condition of the auto-configuration, with {@link ApplicationContextRunner}. */
class ErrandAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  ErrandAutoConfiguration.class,
                  ErrandDashboardAutoConfiguration.class,
                  ErrandMetricsAutoConfiguration.class,
                  ErrandActuatorAutoConfiguration.class))
          .withPropertyValues("errand.url=memory:" + UUID.randomUUID());

  static final TaskDef<Integer, Integer> DOUBLE =
      TaskDef.of("math.double", Integer.class, Integer.class);

  /** Task handlers as users write them. */
  static class MathTasks {
    @ErrandTask(value = "math.double", queue = "math", maxRetries = 0, softTimeLimit = "5s")
    int twice(int n) {
      return 2 * n;
    }

    @ErrandTask("math.answer")
    @ErrandSchedule(cron = "0 3 * * *", zone = "Europe/Paris")
    int answer(TaskContext ctx) {
      return 42;
    }
  }

  @ErrandTask("math.square")
  static class Square implements TaskHandler<Integer, Integer> {
    @Override
    public Integer handle(Integer n, TaskContext ctx) {
      return n * n;
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class Tasks {
    @Bean
    MathTasks mathTasks() {
      return new MathTasks();
    }

    @Bean
    Square square() {
      return new Square();
    }
  }

  @Test
  void byDefaultAClientOnTheConfiguredBackendAndNothingRunning() throws Exception {
    runner.run(
        ctx -> {
          assertThat(ctx).hasSingleBean(Client.class).hasSingleBean(Backend.class);
          assertThat(ctx.getBean(Backend.class).describe()).startsWith("memory:");
          assertThat(ctx.getBean(Client.class).backend())
              .isInstanceOf(TransactionAwareBackend.class);
          assertThat(ctx)
              .doesNotHaveBean(ErrandWorkerLifecycle.class)
              .doesNotHaveBean(ErrandBeatLifecycle.class)
              .doesNotHaveBean(ErrandDashboardLifecycle.class)
              .doesNotHaveBean(BackendMetrics.class);
        });
  }

  @Test
  void withNoUrlAndNoDataSourceTheSqliteFile() throws Exception {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ErrandAutoConfiguration.class))
        .run(
            ctx -> {
              assertThat(ctx.getBean(Backend.class).describe()).contains("errand.db");
              ctx.close();
              java.nio.file.Files.deleteIfExists(java.nio.file.Path.of("errand.db"));
              java.nio.file.Files.deleteIfExists(java.nio.file.Path.of("errand.db-wal"));
              java.nio.file.Files.deleteIfExists(java.nio.file.Path.of("errand.db-shm"));
            });
  }

  @Test
  void theApplicationsOwnBeansWin() throws Exception {
    Client own = dev.errand.worker.Eager.client(new dev.errand.worker.TaskRegistry());
    InMemoryBackend backend = new InMemoryBackend(java.time.Clock.systemUTC());
    runner
        .withBean(Client.class, () -> own)
        .withBean(Backend.class, () -> backend)
        .run(
            ctx -> {
              assertThat(ctx.getBean(Client.class)).isSameAs(own);
              assertThat(ctx.getBean(Backend.class)).isSameAs(backend);
            });
  }

  @Test
  void aWorkerRunsTheAnnotatedBeansWithTheirOptionsAndIsHealthy() throws Exception {
    runner
        .withUserConfiguration(Tasks.class)
        .withPropertyValues(
            "errand.worker.enabled=true",
            "errand.worker.queues=default,math",
            "errand.worker.concurrency=3",
            "errand.worker.queue-order=weighted",
            "errand.worker.queue-weights.math=3",
            "errand.worker.heartbeat-interval=2s")
        .run(
            ctx -> {
              ErrandWorkerLifecycle worker = ctx.getBean(ErrandWorkerLifecycle.class);
              assertThat(worker.isRunning()).isTrue();
              assertThat(worker.worker().options().concurrency()).isEqualTo(3);
              assertThat(worker.worker().options().queues()).containsExactly("default", "math");
              assertThat(worker.worker().options().queueWeights()).containsEntry("math", 3);
              assertThat(worker.worker().options().heartbeatInterval())
                  .isEqualTo(Duration.ofSeconds(2));
              Client client = ctx.getBean(Client.class);
              // The annotation's queue reaches producers: this call names none.
              var doubled = client.enqueue(DOUBLE, 21);
              assertThat(doubled.get(Duration.ofSeconds(10))).isEqualTo(42);
              assertThat(client.result(doubled.id()).status().queue()).isEqualTo("math");
              JsonNode squared = client.send("math.square", "[7]").get(Duration.ofSeconds(10));
              assertThat(squared.asInt()).isEqualTo(49);
              ErrandTaskRegistrar registrar = ctx.getBean(ErrandTaskRegistrar.class);
              assertThat(registrar.registry().names())
                  .containsExactlyInAnyOrder("math.double", "math.answer", "math.square");
              assertThat(registrar.optionsOf("math.double").softTimeLimit())
                  .isEqualTo(Duration.ofSeconds(5));
              assertThat(registrar.schedules())
                  .singleElement()
                  .satisfies(
                      s -> {
                        assertThat(s.name()).isEqualTo("math.answer");
                        assertThat(s.zone()).hasToString("Europe/Paris");
                      });
              var health = ctx.getBean(ErrandHealthIndicator.class).health();
              assertThat(health.getStatus()).isEqualTo(Status.UP);
              assertThat(health.getDetails()).containsEntry("consuming", true);
              assertThat(health.getDetails()).containsKey("queues");
            });
  }

  @Test
  void eagerRunsInlineAndStartsNoWorker() throws Exception {
    runner
        .withUserConfiguration(Tasks.class)
        .withPropertyValues("errand.eager=true", "errand.worker.enabled=false")
        .run(
            ctx -> {
              var r = ctx.getBean(Client.class).enqueue(DOUBLE, 5);
              assertThat(r.isReady()).isTrue();
              assertThat(r.get(Duration.ZERO)).isEqualTo(10);
              assertThat(ctx).doesNotHaveBean(ErrandWorkerLifecycle.class);
            });
  }

  @Test
  void theSchedulerStoresTheDeclaredSchedules() throws Exception {
    runner
        .withUserConfiguration(Tasks.class)
        .withBean(
            "hourly",
            Schedule.class,
            () ->
                Schedule.builder("hourly-square")
                    .task("math.square")
                    .every(Duration.ofHours(1))
                    .build())
        .withPropertyValues("errand.beat.enabled=true")
        .run(
            ctx -> {
              assertThat(ctx.getBean(ErrandBeatLifecycle.class).isRunning()).isTrue();
              Schedules schedules = Schedules.create(ctx.getBean(Client.class));
              assertThat(schedules.list())
                  .extracting(e -> e.schedule().name())
                  .containsExactlyInAnyOrder("math.answer", "hourly-square");
            });
  }

  @Test
  void theDashboardServesOnItsOwnPortUnderItsPolicy() throws Exception {
    runner
        .withPropertyValues("errand.dashboard.enabled=true", "errand.dashboard.port=0")
        .run(
            ctx -> {
              Dashboard d = ctx.getBean(ErrandDashboardLifecycle.class).dashboard();
              HttpResponse<String> page =
                  HttpClient.newHttpClient()
                      .send(
                          HttpRequest.newBuilder(URI.create(d.url())).build(),
                          HttpResponse.BodyHandlers.ofString());
              assertThat(page.statusCode()).isEqualTo(200);
              assertThat(page.headers().firstValue("Content-Security-Policy"))
                  .hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'none'"));
            });
  }

  @Test
  void aPublicDashboardWithoutAuthenticationFailsStartup() throws Exception {
    runner
        .withPropertyValues("errand.dashboard.enabled=true", "errand.dashboard.bind=0.0.0.0")
        .run(
            ctx ->
                assertThat(ctx.getStartupFailure())
                    .isNotNull()
                    .rootCause()
                    .hasMessageContaining("0.0.0.0"));
  }

  @Test
  void metersInTheApplicationsRegistry() throws Exception {
    runner
        .withUserConfiguration(Tasks.class)
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("errand.worker.enabled=true", "errand.worker.queues=default,math")
        .run(
            ctx -> {
              assertThat(ctx)
                  .hasSingleBean(BackendMetrics.class)
                  .hasSingleBean(WorkerMetrics.class);
              ctx.getBean(Client.class).enqueue(DOUBLE, 1).get(Duration.ofSeconds(10));
              MeterRegistry registry = ctx.getBean(MeterRegistry.class);
              org.awaitility.Awaitility.await()
                  .atMost(Duration.ofSeconds(10))
                  .until(() -> !registry.find("errand.tasks").meters().isEmpty());
            });
  }

  @Test
  void routesFromProperties() throws Exception {
    runner
        .withPropertyValues("errand.client.routes[reports.*]=slow")
        .run(
            ctx -> {
              var r = ctx.getBean(Client.class).send("reports.daily", "[]");
              assertThat(ctx.getBean(Backend.class).broker().stats("slow").ready()).isEqualTo(1);
              assertThat(r.id()).isNotBlank();
            });
  }

  @Test
  void badValuesFailStartupNamingThePropertyAndTheValue() throws Exception {
    for (String[] bad :
        List.of(
            new String[] {"errand.worker.concurrency=0", "errand.worker.concurrency", "0"},
            new String[] {
              "errand.worker.lease-duration=soon", "errand.worker.lease-duration", "soon"
            },
            new String[] {"errand.worker.pool=fibers", "errand.worker.pool", "fibers"},
            new String[] {"errand.url=nonsense", "errand.url", "nonsense"},
            new String[] {
              "errand.postgres.schema=Robert'); DROP", "errand.postgres.schema", "Robert"
            },
            new String[] {"errand.dashboard.port=70000", "errand.dashboard.port", "70000"},
            new String[] {"errand.url=nosuch://x", "errand.url", "nosuch"},
            new String[] {"errand.worker.poll-interval=0s", "errand.worker.poll-interval", "PT0S"},
            new String[] {"errand.worker.min-concurrency=9", "errand.worker", "9"})) {
      runner
          .withPropertyValues("errand.worker.enabled=true", "errand.worker.concurrency=4", bad[0])
          .run(
              ctx -> {
                assertThat(ctx.getStartupFailure()).as(bad[0]).isNotNull();
                String report = messages(ctx.getStartupFailure());
                assertThat(report).as(bad[0]).contains(bad[1]).contains(bad[2]);
              });
    }
  }

  @Test
  void aHandlerMethodThatCannotBeOneFailsStartupNamingIt() throws Exception {
    runner
        .withBean(TwoArguments.class)
        .run(
            ctx ->
                assertThat(messages(ctx.getStartupFailure()))
                    .contains("TwoArguments.add")
                    .contains("more than one argument"));
    runner
        .withUserConfiguration(Tasks.class)
        .withBean(Duplicate.class)
        .run(
            ctx ->
                assertThat(messages(ctx.getStartupFailure()))
                    .contains("math.double")
                    .contains("already handled"));
    runner
        .withBean(PrivateTask.class, ErrandAutoConfigurationTest::proxied)
        .run(
            ctx ->
                assertThat(messages(ctx.getStartupFailure()))
                    .contains("PrivateTask.hidden")
                    .contains("private"));
    runner
        .withBean(BadSchedule.class)
        .run(
            ctx ->
                assertThat(messages(ctx.getStartupFailure()))
                    .contains("BadSchedule.tick")
                    .contains("exactly one of cron and every"));
  }

  static class PrivateTask {
    @ErrandTask("math.hidden")
    private int hidden(int n) {
      return n;
    }
  }

  /** The bean as Spring's proxying (for @Transactional, say) hands it out: a CGLIB proxy. */
  static PrivateTask proxied() {
    org.springframework.aop.framework.ProxyFactory f =
        new org.springframework.aop.framework.ProxyFactory(new PrivateTask());
    f.setProxyTargetClass(true);
    return (PrivateTask) f.getProxy();
  }

  static class TwoArguments {
    @ErrandTask("math.add")
    int add(int a, int b) {
      return a + b;
    }
  }

  static class Duplicate {
    @ErrandTask("math.double")
    int again(int n) {
      return n;
    }
  }

  static class BadSchedule {
    @ErrandTask("clock.tick")
    @ErrandSchedule(cron = "* * * * *", every = "1m")
    void tick() {}
  }

  @Test
  void partsBackOffWhenSwitchedOffOrAbsent() throws Exception {
    runner
        .withPropertyValues("errand.transaction.aware=false")
        .run(
            ctx ->
                assertThat(ctx.getBean(Client.class).backend())
                    .isNotInstanceOf(TransactionAwareBackend.class));
    // No spring-tx: nothing to follow, and nothing breaks.
    runner
        .withClassLoader(new FilteredClassLoader("org.springframework.transaction"))
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx.getBean(Client.class).backend())
                  .isNotInstanceOf(TransactionAwareBackend.class);
            });
    runner
        .withClassLoader(new FilteredClassLoader(Dashboard.class))
        .withPropertyValues("errand.dashboard.enabled=true")
        .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(ErrandDashboardLifecycle.class));
    runner
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("errand.metrics.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(BackendMetrics.class));
    runner
        .withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate"))
        .run(
            ctx ->
                assertThat(ctx)
                    .hasNotFailed()
                    .doesNotHaveBean(dev.errand.spring.actuate.ErrandStatus.class));
  }

  @Test
  void aDataSourceThatIsNotPostgresLeavesTheSqliteDefault(@TempDir Path dir) throws Exception {
    DriverManagerDataSource sqlite =
        new DriverManagerDataSource("jdbc:sqlite:" + dir.resolve("app.db"));
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ErrandAutoConfiguration.class))
        .withBean(DataSource.class, () -> sqlite)
        .withPropertyValues("errand.url=sqlite:" + dir.resolve("errand.db"))
        .run(ctx -> assertThat(ctx.getBean(Backend.class).describe()).contains("errand.db"));
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ErrandAutoConfiguration.class))
        .withBean(DataSource.class, () -> sqlite)
        .run(
            ctx -> {
              // errand-postgres is on the class path, but the DataSource is not PostgreSQL.
              assertThat(ctx.getBean(Backend.class).describe())
                  .contains("errand.db")
                  .doesNotContain("postgres");
              ctx.close();
              for (String f : List.of("errand.db", "errand.db-wal", "errand.db-shm")) {
                java.nio.file.Files.deleteIfExists(Path.of(f));
              }
            });
  }

  /** Tasks registered the plain way, as errand worker --app does. */
  static class AppTasks implements dev.errand.worker.ErrandApp {
    @Override
    public void register(dev.errand.worker.TaskRegistry tasks) {
      tasks.handle(TaskDef.of("app.echo", String.class, String.class), (s, ctx) -> s);
    }
  }

  @Test
  void errandAppBeansRegisterTheirTasks() throws Exception {
    runner
        .withBean(AppTasks.class)
        .withPropertyValues("errand.worker.enabled=true")
        .run(
            ctx ->
                assertThat(
                        ctx.getBean(Client.class)
                            .send("app.echo", "[\"hi\"]")
                            .get(Duration.ofSeconds(10))
                            .asText())
                    .isEqualTo("hi"));
  }

  @Test
  void propertyDefaultsAreTheWorkersDefaults() throws Exception {
    ErrandProperties.Worker p = new ErrandProperties().getWorker();
    WorkerOptions d = WorkerOptions.defaults();
    assertThat(p.getLeaseDuration()).isEqualTo(d.leaseDuration());
    assertThat(p.getShutdownTimeout()).isEqualTo(d.shutdownTimeout());
    assertThat(p.getMaxDeliveries()).isEqualTo(d.maxDeliveries());
    assertThat(p.getResultExpires()).isEqualTo(d.resultExpires());
    assertThat(p.getConcurrency()).isEqualTo(d.concurrency());
    assertThat(p.getHeartbeatInterval()).isEqualTo(d.heartbeatInterval());
    assertThat(p.getPollInterval()).isEqualTo(d.pollInterval());
    assertThat(p.getStallTimeout()).isEqualTo(d.stallTimeout());
    assertThat(p.getMaxTasks()).isEqualTo(d.maxTasks());
    assertThat(new ErrandProperties().getClient().getMaxMessageBytes())
        .isEqualTo(Client.DEFAULT_MAX_MESSAGE_BYTES);
    assertThat(new ErrandProperties().getBeat().getFailover())
        .isEqualTo(dev.errand.scheduler.Beat.DEFAULT_FAILOVER);
    assertThat(new ErrandProperties().getDashboard().getPort()).isEqualTo(Dashboard.DEFAULT_PORT);
    assertThat(TaskOptions.none().queue()).isNull();
  }

  private static String messages(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c.getMessage()).append('\n');
    }
    return b.toString();
  }
}
