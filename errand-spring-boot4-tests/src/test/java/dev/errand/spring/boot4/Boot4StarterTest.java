package dev.errand.spring.boot4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.Client;
import dev.errand.spi.Backend;
import dev.errand.spring.actuate.ErrandBoot4HealthIndicator;
import dev.errand.spring.autoconfigure.ErrandWorkerLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The starter in a Spring Boot 4 application, on SQLite, with a worker. */
@SpringBootTest(classes = Boot4App.class, properties = "errand.worker.enabled=true")
class Boot4StarterTest {

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) throws Exception {
    Path dir = Files.createTempDirectory("errand-boot4");
    dir.toFile().deleteOnExit();
    registry.add("spring.datasource.url", () -> "jdbc:sqlite:" + dir.resolve("app.db"));
    registry.add("errand.url", () -> "sqlite:" + dir.resolve("errand.db"));
  }

  @Autowired Boot4App.Orders orders;
  @Autowired Client client;
  @Autowired Backend backend;
  @Autowired JdbcTemplate jdbc;
  @Autowired ErrandWorkerLifecycle worker;
  @Autowired ErrandBoot4HealthIndicator health;

  @BeforeEach
  void table() {
    jdbc.execute("CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, item text NOT NULL)");
    jdbc.execute("DELETE FROM orders");
  }

  @Test
  void runsOnSpringBoot4() {
    assertThat(SpringBootVersion.getVersion()).startsWith("4.");
    assertThat(worker.isRunning()).isTrue();
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
  }

  @Test
  void committedTheTaskRunsAndSeesTheRowRolledBackNothing() throws Exception {
    assertThatThrownBy(() -> orders.placeThenFail(1, "kettle")).hasMessage("payment refused");
    String id = orders.place(2, "teapot");
    assertThat(client.result(id, Boot4App.CONFIRM).get(Duration.ofSeconds(20))).isEqualTo("teapot");
    assertThat(jdbc.queryForObject("SELECT count(*) FROM orders", Integer.class)).isEqualTo(1);
    assertThat(backend.broker().stats("default").ready()).isZero();
  }
}
