package dev.errand.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.postgres.testing.TestPostgres;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The notifier says "look again" (a null payload) whenever LISTEN has just taken effect: at first,
 * and after its connection was lost, the two moments when a notification may have gone unseen.
 */
class PgNotifierTest {

  private final String schema = TestPostgres.newSchema();
  private final PgNotifier notifier =
      new PgNotifier(
          () -> {
            try {
              return DriverManager.getConnection(TestPostgres.jdbcUrl());
            } catch (SQLException e) {
              throw new IllegalStateException(e);
            }
          },
          schema);
  private final List<String> seen = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    notifier.close();
  }

  private long nulls() {
    return seen.stream().filter(p -> p == null).count();
  }

  @Test
  void saysLookAgainOnceListeningThenPassesPayloadsAndSaysItAgainAfterAReconnect() {
    notifier.listen(PgNotifier.MESSAGES, seen::add);
    await().atMost(Duration.ofSeconds(10)).until(() -> nulls() == 1);

    notifyQueue("emails");
    await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains("emails"));

    // The listener's own connection is cut (as by a server restart): it listens again and says so.
    int terminated =
        TestPostgres.withConnection(
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                          + " WHERE query = ?")) {
                ps.setString(1, "LISTEN \"" + notifier.channel(PgNotifier.MESSAGES) + "\"");
                try (var rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getInt(1);
                }
              }
            });
    assertThat(terminated).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> nulls() == 2);
    notifyQueue("reports");
    await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains("reports"));
  }

  private void notifyQueue(String queue) {
    TestPostgres.withConnection(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(notifier.notifySql(PgNotifier.MESSAGES))) {
            ps.setString(1, queue);
            ps.executeQuery().close();
          }
          return null;
        });
  }
}
