package dev.errand.cli;

import java.nio.file.Path;
import java.util.UUID;

/**
 * The clock skew process test on the real Redis (ERRAND_TEST_REDIS, default 127.0.0.1:6379/9),
 * under a key prefix of its own: Redis's clock decides.
 */
class RedisClockSkewProcessIT extends ClockSkewProcessIT {

  String prefix;

  @Override
  String newBackendUrl(Path dir) {
    prefix = "errand-it-" + UUID.randomUUID().toString().substring(0, 8);
    return RedisWorkerProcessIT.SERVER + "?prefix=" + prefix;
  }

  @Override
  void cleanUp() {
    RedisWorkerProcessIT.deleteKeys(prefix);
  }
}
