package dev.errand.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.BackendException;
import dev.errand.BackendUnavailableException;
import dev.errand.Backends;
import dev.errand.postgres.internal.Migrations;
import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spi.Backend;
import dev.errand.spi.NewMessage;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Opening, migrating and refusing: what the contract suite does not cover. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PostgresBackendTest {

  private final String schema = TestPostgres.newSchema();

  @AfterEach
  void drop() {
    TestPostgres.dropSchema(schema);
  }

  private static void sql(String statement) {
    TestPostgres.withConnection(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute(statement);
          }
          return null;
        });
  }

  private int appliedVersion() {
    return TestPostgres.withConnection(
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery("SELECT max(version) FROM \"" + schema + "\".errand_migrations")) {
            rs.next();
            return rs.getInt(1);
          }
        });
  }

  @Test
  void opensThroughBackendsAndCreatesTheSchemaOnce() {
    try (Backend b = Backends.open(TestPostgres.url(schema))) {
      assertThat(b.describe()).contains("schema=" + schema);
      assertThat(b.broker().queues()).isEmpty();
    }
    // A second open finds the schema current and applies nothing.
    try (Backend b = Backends.open(TestPostgres.url(schema))) {
      assertThat(b.broker().queues()).isEmpty();
    }
    assertThat(appliedVersion()).isEqualTo(Migrations.latest());
  }

  @Test
  void manyProcessesOpeningANewSchemaAtOnceApplyEachMigrationOnce() throws Exception {
    List<CompletableFuture<Void>> opens = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      opens.add(
          CompletableFuture.runAsync(
              () -> PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()).close()));
    }
    for (CompletableFuture<Void> f : opens) {
      f.get(30, TimeUnit.SECONDS);
    }
    int rows =
        TestPostgres.withConnection(
            c -> {
              try (Statement s = c.createStatement();
                  ResultSet rs =
                      s.executeQuery("SELECT count(*) FROM \"" + schema + "\".errand_migrations")) {
                rs.next();
                return rs.getInt(1);
              }
            });
    assertThat(rows).isEqualTo(Migrations.latest());
  }

  @Test
  void aSchemaUpgradedByANewerErrandIsRefusedWithBothVersions() {
    PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()).close();
    sql(
        "INSERT INTO \""
            + schema
            + "\".errand_migrations (version, description, checksum) VALUES (99, 'future', 'x')");
    assertThatThrownBy(() -> PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("version 99")
        .hasMessageContaining("upgrade");
  }

  @Test
  void anAppliedMigrationThatWasChangedIsRefused() {
    PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()).close();
    sql("UPDATE \"" + schema + "\".errand_migrations SET checksum = 'edited' WHERE version = 1");
    assertThatThrownBy(() -> PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("V1")
        .hasMessageContaining("checksum");
  }

  @Test
  void withMigrationsOffAMissingSchemaSaysWhatToDo() {
    assertThatThrownBy(
            () ->
                PostgresBackend.open(
                    TestPostgres.url(schema) + "&migrate=false", Clock.systemUTC()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("migrate=false")
        .hasMessageContaining("dev/errand/postgres/migrations");
  }

  @Test
  void theShippedFilesAppliedByHandAreAcceptedWithMigrationsOff() {
    // What a team running its own migration tool does: the files, ${schema} replaced.
    for (Migrations.Migration m : Migrations.shipped()) {
      sql(m.sql().replace("${schema}", "\"" + schema + "\""));
    }
    try (Backend b =
        PostgresBackend.open(TestPostgres.url(schema) + "&migrate=false", Clock.systemUTC())) {
      b.broker()
          .enqueue(
              List.of(
                  new NewMessage(
                      "m1", "q", 0, "{}".getBytes(StandardCharsets.UTF_8), null, null, null)));
      assertThat(b.broker().stats("q").ready()).isEqualTo(1);
    }
  }

  @Test
  void aServerThatDoesNotAnswerIsUnavailableNamingTheUrlWithoutThePassword() {
    assertThatThrownBy(
            () ->
                PostgresBackend.open(
                    "postgresql://app:s3cret@127.0.0.1:1/db?schema=x&connectTimeout=2",
                    Clock.systemUTC()))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("127.0.0.1:1")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void theClockIsTheDatabasesCorrected() {
    try (Backend b = PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC())) {
      long db =
          TestPostgres.withConnection(
              c -> {
                try (Statement s = c.createStatement();
                    ResultSet rs =
                        s.executeQuery(
                            "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint")) {
                  rs.next();
                  return rs.getLong(1);
                }
              });
      assertThat(Math.abs(b.clock().millis() - db)).isLessThan(Duration.ofSeconds(2).toMillis());
    }
  }
}
