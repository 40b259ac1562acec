package dev.errand.cli;

import java.nio.file.Path;

/** The scheduler process tests on one SQLite file. */
class SqliteBeatProcessIT extends BeatProcessIT {

  @Override
  String newBackendUrl(Path dir) {
    return "sqlite:" + dir.resolve("beat.db");
  }
}
