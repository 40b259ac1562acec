package dev.errand.spring.app;

import dev.errand.redis.testing.TestRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The orders app on Redis (the tests' own, or ERRAND_TEST_REDIS under a prefix of its own): the
 * enqueue is held until the commit, dropped on rollback.
 */
@SpringBootTest(classes = OrdersApp.class, properties = "errand.worker.enabled=true")
@Import(RedisTransactionalEnqueueTest.Cleanup.class)
class RedisTransactionalEnqueueTest extends TransactionalEnqueueContract {

  private static final String PREFIX = TestRedis.newPrefix();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) throws Exception {
    Path dir = Files.createTempDirectory("errand-spring-redis");
    dir.toFile().deleteOnExit();
    registry.add("spring.datasource.url", () -> "jdbc:sqlite:" + dir.resolve("app.db"));
    registry.add("errand.url", () -> TestRedis.url(PREFIX));
  }

  /** Deletes the test's keys when the application closes, after its worker has stopped. */
  static class Cleanup implements DisposableBean {
    @Override
    public void destroy() {
      TestRedis.deleteKeys(PREFIX);
    }
  }
}
