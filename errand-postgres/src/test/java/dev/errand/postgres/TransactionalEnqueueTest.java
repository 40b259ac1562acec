package dev.errand.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spi.Delivery;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task enqueued inside the application's own transaction exists if, and only if, it commits: the
 * application's row and the task appear together, and a consumer waiting meanwhile is woken by the
 * commit. On the database's own clock (the system clock), as in production.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransactionalEnqueueTest {

  private static final Duration LEASE = Duration.ofSeconds(30);

  private String schema;
  private PostgresBackend backend;
  private Client client;

  @BeforeEach
  void open() throws Exception {
    schema = TestPostgres.newSchema();
    backend = PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC());
    client = Client.create(backend);
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE \"" + schema + "\".orders (id text PRIMARY KEY)");
    }
  }

  @AfterEach
  void close() {
    if (backend != null) {
      backend.close();
    }
    TestPostgres.dropSchema(schema);
  }

  private static Connection connect() throws Exception {
    return DriverManager.getConnection(TestPostgres.jdbcUrl());
  }

  private void insertOrder(Connection c, String id) throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO \"" + schema + "\".orders (id) VALUES (?)")) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
  }

  private boolean orderExists(String id) throws Exception {
    try (Connection c = connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT 1 FROM \"" + schema + "\".orders WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private List<Delivery> claimNow() throws InterruptedException {
    return backend.broker().claim(List.of("orders"), 10, LEASE, Duration.ZERO);
  }

  @Test
  void committedTaskAndRowAppearTogetherAndInvisibleBefore() throws Exception {
    String id;
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      insertOrder(c, "o-1");
      AsyncResult<?> sent =
          client
              .inTransaction(c)
              .send("orders.receipt", json("{\"order\":\"o-1\"}"), queue("orders"));
      id = sent.id();
      // Not committed: no worker can see it, nor the row.
      assertThat(claimNow()).isEmpty();
      assertThat(backend.broker().stats("orders").ready()).isZero();
      assertThat(orderExists("o-1")).isFalse();
      c.commit();
    }
    assertThat(orderExists("o-1")).isTrue();
    List<Delivery> got = claimNow();
    assertThat(got).extracting(Delivery::id).containsExactly(id);
  }

  @Test
  void rolledBackTaskNeverExisted() throws Exception {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      insertOrder(c, "o-2");
      client
          .inTransaction(c)
          .send(
              "orders.receipt",
              json("{\"order\":\"o-2\"}"),
              TaskOptions.builder().queue("orders").idempotencyKey("o-2").build());
      c.rollback();
    }
    assertThat(orderExists("o-2")).isFalse();
    assertThat(claimNow()).isEmpty();
    assertThat(backend.events().latest(100)).isEmpty();
    // Its idempotency key went with it: the next attempt is enqueued, not a duplicate.
    AsyncResult<?> again =
        client.send(
            "orders.receipt",
            json("{\"order\":\"o-2\"}"),
            TaskOptions.builder().queue("orders").idempotencyKey("o-2").build());
    assertThat(claimNow()).extracting(Delivery::id).containsExactly(again.id());
  }

  @Test
  void aWaitingWorkerIsWokenByTheCommit() throws Exception {
    CompletableFuture<List<Delivery>> waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return backend.broker().claim(List.of("orders"), 1, LEASE, Duration.ofSeconds(30));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    String id;
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      id = client.inTransaction(c).send("orders.receipt", json("{}"), queue("orders")).id();
      // The claim waits meanwhile and must not see it.
      await()
          .during(Duration.ofMillis(300))
          .atMost(Duration.ofSeconds(5))
          .until(() -> !waiting.isDone());
      c.commit();
    }
    assertThat(waiting.get(20, TimeUnit.SECONDS)).extracting(Delivery::id).containsExactly(id);
  }

  @Test
  void aUniqueKeyTakenInAnOpenTransactionIsSettledByItsOutcome() throws Exception {
    try (Connection a = connect();
        Connection b = connect()) {
      a.setAutoCommit(false);
      b.setAutoCommit(false);
      int bPid = backendPid(b);
      String first =
          client
              .inTransaction(a)
              .send(
                  "orders.sync",
                  json("{}"),
                  TaskOptions.builder().queue("orders").uniqueKey("s").build())
              .id();
      // b's enqueue of the same key waits for a's outcome, then returns the holder.
      CompletableFuture<String> second =
          CompletableFuture.supplyAsync(
              () ->
                  client
                      .inTransaction(b)
                      .send(
                          "orders.sync",
                          json("{}"),
                          TaskOptions.builder().queue("orders").uniqueKey("s").build())
                      .id());
      // b waits on a's row, as PostgreSQL shows, until a ends.
      await().atMost(Duration.ofSeconds(10)).until(() -> waitsOnALock(bPid));
      assertThat(second).isNotDone();
      a.commit();
      assertThat(second.get(20, TimeUnit.SECONDS)).isEqualTo(first);
      b.commit();
    }
    assertThat(claimNow()).hasSize(1);
  }

  @Test
  void anAutoCommitConnectionIsRefusedWithTheReason() throws Exception {
    try (Connection c = connect()) {
      assertThatThrownBy(() -> client.inTransaction(c).send("orders.receipt", json("{}")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("auto-commit");
    }
    assertThat(claimNow()).isEmpty();
  }

  private static int backendPid(Connection c) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static boolean waitsOnALock(int pid) throws Exception {
    try (Connection c = connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?")) {
      ps.setInt(1, pid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && "Lock".equals(rs.getString(1));
      }
    }
  }

  private static TaskOptions queue(String name) {
    return TaskOptions.builder().queue(name).build();
  }

  private static JsonNode json(String text) {
    try {
      return new ObjectMapper().readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }
}
