package dev.errand.cli;

import java.nio.file.Path;

/** The worker process tests on one SQLite file. */
class SqliteWorkerProcessIT extends WorkerProcessIT {

  @Override
  String newBackendUrl(Path dir) {
    return "sqlite:" + dir.resolve("it.db");
  }
}
