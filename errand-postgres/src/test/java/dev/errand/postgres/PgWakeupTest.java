package dev.errand.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Wake-ups only where a claim waits (V2__wakeups.sql), between two backends on one schema as
 * between two processes, with the database's clock: a plain enqueue notifies nobody while no claim
 * waits on its queue, and a claim that goes to sleep is still woken by every enqueue, including one
 * racing its registration. A lost wake-up would show as a claim waiting out the 5 s backstop, so
 * the bounds here are well under it.
 */
class PgWakeupTest {

  /** Well under {@code PgBroker.MAX_IDLE_WAIT} (5 s): a lost wake-up cannot meet it. */
  private static final Duration PROMPT = Duration.ofMillis(2_500);

  private final String schema = TestPostgres.newSchema();
  private final PostgresBackend producer =
      PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC());
  private final PostgresBackend consumer =
      PostgresBackend.open(TestPostgres.url(schema), Clock.systemUTC());
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void close() {
    pool.shutdownNow();
    producer.close();
    consumer.close();
    TestPostgres.dropSchema(schema);
  }

  private static NewMessage message(String id, String queue) {
    return new NewMessage(id, queue, 5, "{}".getBytes(StandardCharsets.UTF_8), null, null, null);
  }

  private CompletableFuture<List<Delivery>> claimAsync(String queue, Duration wait) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return consumer.broker().claim(List.of(queue), 1, Duration.ofSeconds(30), wait);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        },
        pool);
  }

  private long registrations(String queue) {
    return TestPostgres.withConnection(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FROM \"" + schema + "\".waiters WHERE queue = ?")) {
            ps.setString(1, queue);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  @Test
  void aPlainEnqueueNotifiesNobodyUntilAClaimWaitsThenWakesIt() throws Exception {
    producer.broker().enqueue(List.of(message("warm-up", "other"))); // creates the tables
    try (Connection listen = DriverManager.getConnection(TestPostgres.jdbcUrl());
        Statement s = listen.createStatement()) {
      s.execute("LISTEN \"errand_q_" + schema + "\"");
      PGConnection pgc = listen.unwrap(PGConnection.class);

      producer.broker().enqueue(List.of(message("m1", "mail")));
      Client.create(producer)
          .enqueue(
              TaskDef.of("mail.send", String.class),
              "x",
              TaskOptions.builder().queue("mail").build());
      PGNotification[] none = pgc.getNotifications(300);
      assertThat(none == null ? List.of() : List.of(none)).isEmpty();

      // A claim drains the queue and goes to sleep on it: now it is registered, and notified.
      assertThat(
              consumer.broker().claim(List.of("mail"), 10, Duration.ofSeconds(30), Duration.ZERO))
          .hasSize(2);
      CompletableFuture<List<Delivery>> waiting = claimAsync("mail", Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(5)).until(() -> registrations("mail") == 1);
      long t0 = System.nanoTime();
      producer.broker().enqueue(List.of(message("m2", "mail")));
      List<Delivery> got = waiting.get(PROMPT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(got).extracting(Delivery::id).containsExactly("m2");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(PROMPT);
      PGNotification[] some = pgc.getNotifications(1_000);
      assertThat(some).isNotNull();
      assertThat(some[0].getParameter()).isEqualTo("mail");
    }
  }

  @Test
  void anEnqueueRacingAClaimsRegistrationStillWakesIt() throws Exception {
    producer.broker().enqueue(List.of(message("warm-up", "other")));
    // Each round a new queue, so each claim registers for the first time as the enqueue lands.
    for (int round = 0; round < 40; round++) {
      String queue = "race-" + round;
      CompletableFuture<List<Delivery>> waiting = claimAsync(queue, Duration.ofSeconds(30));
      // A random head start for the claim, so the enqueue lands anywhere in its registration.
      Thread.sleep(ThreadLocalRandom.current().nextInt(0, 15));
      producer.broker().enqueue(List.of(message("r" + round, queue)));
      List<Delivery> got = waiting.get(PROMPT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(got).extracting(Delivery::id).as("round %d", round).containsExactly("r" + round);
    }
  }

  @Test
  void anOpenApplicationTransactionDoesNotHoldUpWaitingClaims() throws Exception {
    producer.broker().enqueue(List.of(message("warm-up", "other")));
    try (Connection app = DriverManager.getConnection(TestPostgres.jdbcUrl())) {
      app.setAutoCommit(false);
      producer.joining(app).broker().enqueue(List.of(message("in-tx", "orders")));
      // The transaction stays open: a claim still registers and sleeps (no lock is held against
      // it).
      CompletableFuture<List<Delivery>> waiting = claimAsync("orders", Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(5)).until(() -> registrations("orders") == 1);
      assertThat(waiting).isNotDone();
      // And a plain enqueue on the same queue meanwhile is not held up either.
      CompletableFuture<Void> plain =
          CompletableFuture.runAsync(
              () -> producer.broker().enqueue(List.of(message("plain", "orders"))), pool);
      plain.get(5, TimeUnit.SECONDS);
      List<Delivery> first = waiting.get(PROMPT.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(first).extracting(Delivery::id).containsExactly("plain");

      CompletableFuture<List<Delivery>> next = claimAsync("orders", Duration.ofSeconds(30));
      // Uncommitted: the claim must go on waiting.
      await()
          .during(Duration.ofMillis(200))
          .atMost(Duration.ofSeconds(1))
          .until(() -> !next.isDone());
      app.commit(); // notified on commit
      assertThat(next.get(PROMPT.toMillis(), TimeUnit.MILLISECONDS))
          .extracting(Delivery::id)
          .containsExactly("in-tx");
    }
  }
}
