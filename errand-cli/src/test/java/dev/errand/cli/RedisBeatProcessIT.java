package dev.errand.cli;

import dev.errand.redis.testing.TestRedis;
import java.nio.file.Path;

/**
 * The scheduler process tests on a real Redis ({@link TestRedis}), under a key prefix of their own.
 */
class RedisBeatProcessIT extends BeatProcessIT {

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
