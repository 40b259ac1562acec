package dev.errand.cli;

import dev.errand.redis.testing.TestRedis;
import java.nio.file.Path;

/**
 * The clock skew process test on a real Redis ({@link TestRedis}), under a key prefix of its own:
 * Redis's clock decides.
 */
class RedisClockSkewProcessIT extends ClockSkewProcessIT {

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
