package dev.errand.cli;

import java.nio.file.Path;

/** The clock skew process test on one SQLite file: the host kernel's clock decides. */
class SqliteClockSkewProcessIT extends ClockSkewProcessIT {

  @Override
  String newBackendUrl(Path dir) {
    return "sqlite:" + dir.resolve("it.db");
  }
}
