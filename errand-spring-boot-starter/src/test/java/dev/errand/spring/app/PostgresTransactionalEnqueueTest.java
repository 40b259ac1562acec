package dev.errand.spring.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.postgres.PostgresBackend;
import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spring.tx.TransactionAwareBackend;
import java.sql.ResultSet;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The orders app on PostgreSQL with no errand.url: Errand stores its tasks through the
 * application's own DataSource, and the enqueue is written in the caller's transaction.
 */
@SpringBootTest(classes = OrdersApp.class, properties = "errand.worker.enabled=true")
@Import(PostgresTransactionalEnqueueTest.Cleanup.class)
class PostgresTransactionalEnqueueTest extends TransactionalEnqueueContract {

  private static final String APP_SCHEMA = TestPostgres.newSchema();
  private static final String ERRAND_SCHEMA = TestPostgres.newSchema();

  @Autowired TransactionTemplate transactions;

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    TestPostgres.withConnection(
        c -> c.createStatement().execute("CREATE SCHEMA IF NOT EXISTS " + APP_SCHEMA));
    String url = TestPostgres.jdbcUrl();
    registry.add(
        "spring.datasource.url",
        () -> url + (url.contains("?") ? "&" : "?") + "currentSchema=" + APP_SCHEMA);
    registry.add("errand.postgres.schema", () -> ERRAND_SCHEMA);
  }

  /** Drops the test's schemas when the application closes, after its worker has stopped. */
  static class Cleanup implements DisposableBean {
    @Override
    public void destroy() {
      TestPostgres.dropSchema(APP_SCHEMA);
      TestPostgres.dropSchema(ERRAND_SCHEMA);
    }
  }

  private static long storedMessages() {
    return TestPostgres.withConnection(
        c -> {
          try (ResultSet rs =
              c.createStatement()
                  .executeQuery("SELECT count(*) FROM " + ERRAND_SCHEMA + ".messages")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  @Test
  void theBackendIsTheApplicationsDataSourceAndTheEnqueueJoinsTheTransaction() throws Exception {
    assertThat(backend).isInstanceOf(PostgresBackend.class);
    assertThat(((PostgresBackend) backend).schema()).isEqualTo(ERRAND_SCHEMA);
    assertThat(client.backend())
        .isInstanceOfSatisfying(TransactionAwareBackend.class, b -> assertThat(b.joins()).isTrue());
    String id =
        transactions.execute(
            status -> {
              String taskId = orders.place(10, "saucer");
              // Written on the transaction's connection: nobody else sees it yet.
              assertThat(storedMessages()).isZero();
              return taskId;
            });
    assertThat(client.result(id, OrdersApp.CONFIRM).get(Duration.ofSeconds(20)))
        .isEqualTo("saucer");
  }
}
