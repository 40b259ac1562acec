package com.example.readme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.Client;
import dev.errand.postgres.PostgresBackend;
import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spi.Delivery;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** docs/postgres.md's order and its receipt: committed together, or neither. */
class PostgresOrdersTest {

  final String schema = TestPostgres.newSchema();
  PostgresBackend backend;
  Client client;
  PGSimpleDataSource app;

  @BeforeEach
  void open() {
    backend = PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC());
    client = Client.create(backend);
    // The application's own data source, its tables in the same schema as Errand's here.
    app = new PGSimpleDataSource();
    app.setUrl(TestPostgres.jdbcUrl());
    app.setCurrentSchema(schema);
    TestPostgres.withConnection(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE \"" + schema + "\".orders (id text PRIMARY KEY)");
          }
          return null;
        });
  }

  @AfterEach
  void close() {
    backend.close();
    TestPostgres.dropSchema(schema);
  }

  @Test
  void theOrderAndItsReceiptAreCommittedTogetherOrNotAtAll() throws Exception {
    PostgresOrders.placeOrder(app, client, "o-1");
    assertThat(claim()).hasSize(1);

    // The same order again: the insert fails, the transaction rolls back, no receipt is sent.
    assertThatThrownBy(() -> PostgresOrders.placeOrder(app, client, "o-1"))
        .isInstanceOf(SQLException.class);
    assertThat(claim()).isEmpty();
  }

  private List<Delivery> claim() throws InterruptedException {
    return backend.broker().claim(List.of("default"), 10, Duration.ofSeconds(30), Duration.ZERO);
  }
}
