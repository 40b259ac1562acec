package dev.errand.spring.app;

import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The orders app on SQLite: the enqueue is held until the commit, dropped on rollback. */
@SpringBootTest(classes = OrdersApp.class, properties = "errand.worker.enabled=true")
class SqliteTransactionalEnqueueTest extends TransactionalEnqueueContract {

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) throws Exception {
    Path dir = Files.createTempDirectory("errand-spring-sqlite");
    dir.toFile().deleteOnExit();
    registry.add("spring.datasource.url", () -> "jdbc:sqlite:" + dir.resolve("app.db"));
    registry.add("errand.url", () -> "sqlite:" + dir.resolve("errand.db"));
  }
}
