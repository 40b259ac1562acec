package dev.errand.postgres.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The tests' own PostgreSQL: the shared server, schemas, and a private server's life cycle. */
class TestPostgresTest {

  @Test
  void theSharedServerAnswers() {
    String version =
        TestPostgres.withConnection(c -> query(c.createStatement(), "select version()"));

    assertThat(version).startsWith("PostgreSQL ");
    assertThat(TestPostgres.jdbcUrl()).startsWith("jdbc:postgresql://");
  }

  @Test
  void aSchemaIsCreatedAndDropped() {
    String schema = TestPostgres.newSchema();
    assertThat(schema).matches("errand_it_[0-9a-f]{8}");
    assertThat(TestPostgres.url(schema))
        .matches("postgresql://[^/]+@[^/]+:\\d+/\\w+\\?schema=" + schema);
    try {
      TestPostgres.withConnection(
          c -> {
            try (Statement s = c.createStatement()) {
              s.execute("create schema \"" + schema + "\"");
              s.execute("create table \"" + schema + "\".t (id int primary key)");
            }
            return null;
          });
      assertThat(schemaExists(schema)).isTrue();
    } finally {
      TestPostgres.dropSchema(schema);
    }

    assertThat(schemaExists(schema)).isFalse();
    // Dropping one that is gone is no error.
    TestPostgres.dropSchema(schema);
  }

  @Test
  void aPrivateServerKeepsItsDataAcrossARestartAndDiesWhenKilled() throws Exception {
    // Committed must mean kept through the kill below, as it would on a production server.
    try (PostgresServerProcess server = TestPostgres.startPrivate("synchronous_commit=on")) {
      String url = server.jdbcUrl();
      assertThat(url).contains(":" + server.port() + "/");
      TestPostgres.withConnection(
          url,
          c -> {
            try (Statement s = c.createStatement()) {
              s.execute("create table kept (id int primary key, name text)");
              s.execute("insert into kept values (1, 'before restart')");
            }
            return null;
          });

      server.restart();

      assertThat(server.isRunning()).isTrue();
      String name =
          TestPostgres.withConnection(
              url, c -> query(c.createStatement(), "select name from kept where id = 1"));
      assertThat(name).isEqualTo("before restart");
      // Committed just before a crash: the restart after it replays the write-ahead log.
      TestPostgres.withConnection(
          url,
          c -> {
            try (Statement s = c.createStatement()) {
              s.execute("insert into kept values (2, 'before kill')");
            }
            return null;
          });
      var open = DriverManager.getConnection(url);

      server.kill();

      assertThat(server.isRunning()).isFalse();
      assertThatThrownBy(() -> query(open.createStatement(), "select 1"))
          .isInstanceOf(SQLException.class);
      open.close();
      assertThatThrownBy(() -> TestPostgres.withConnection(url, c -> null))
          .hasCauseInstanceOf(SQLException.class);

      server.restart();
      String rows =
          TestPostgres.withConnection(
              url, c -> query(c.createStatement(), "select count(*) from kept"));
      assertThat(rows).isEqualTo("2");

      server.stop();
      assertThat(server.isRunning()).isFalse();
      assertThatThrownBy(() -> TestPostgres.withConnection(url, c -> null))
          .hasCauseInstanceOf(SQLException.class);
      assertThat(server.dataDirectory()).isDirectory();
    }
  }

  private static boolean schemaExists(String schema) {
    return TestPostgres.withConnection(
        c -> {
          try (var s = c.prepareStatement("select 1 from pg_namespace where nspname = ?")) {
            s.setString(1, schema);
            try (ResultSet rs = s.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  private static String query(Statement s, String sql) throws SQLException {
    try (s;
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
