package dev.errand.cli;

import java.nio.file.Path;
import java.util.UUID;

/** The scheduler process tests on the real Redis, under a key prefix of their own. */
class RedisBeatProcessIT extends BeatProcessIT {

  String prefix;

  @Override
  String newBackendUrl(Path dir) {
    prefix = "errand-beat-it-" + UUID.randomUUID().toString().substring(0, 8);
    return RedisWorkerProcessIT.SERVER + "?prefix=" + prefix;
  }

  @Override
  void cleanUp() {
    RedisWorkerProcessIT.deleteKeys(prefix);
  }
}
