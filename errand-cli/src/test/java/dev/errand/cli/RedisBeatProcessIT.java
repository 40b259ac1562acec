package dev.errand.cli;

import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    RedisWorkerProcessIT.redis(
        r -> {
          ScanIterator<String> keys =
              ScanIterator.scan(r, ScanArgs.Builder.matches(prefix + ":*").limit(1000));
          List<String> all = new ArrayList<>();
          keys.forEachRemaining(all::add);
          if (!all.isEmpty()) {
            r.unlink(all.toArray(String[]::new));
          }
          return null;
        });
  }
}
