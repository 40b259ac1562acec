package dev.errand.cli;

import dev.errand.redis.testing.TestRedis;
import java.nio.file.Path;

/**
 * The workflow process tests on a real Redis ({@link TestRedis}: one of the run's own, or {@code
 * ERRAND_TEST_REDIS}), each under a key prefix of its own.
 */
class RedisWorkflowProcessIT extends WorkflowProcessIT {

  String prefix;

  @Override
  String newBackendUrl(Path dir) {
    prefix = TestRedis.newPrefix();
    return TestRedis.url(prefix);
  }

  @Override
  void cleanUp() {
    TestRedis.deleteKeys(prefix);
  }
}
