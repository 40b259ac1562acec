package dev.errand.cli;

import java.nio.file.Path;

/** The workflow process tests on one SQLite file. */
class SqliteWorkflowProcessIT extends WorkflowProcessIT {

  @Override
  String newBackendUrl(Path dir) {
    return "sqlite:" + dir.resolve("it.db");
  }
}
