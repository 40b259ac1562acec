package dev.errand.cli;

import java.nio.file.Path;

/** The flow-control proof on one SQLite file shared by three worker processes. */
class SqliteFlowControlProcessIT extends FlowControlProcessIT {

  @Override
  String newBackendUrl(Path dir) {
    return "sqlite:" + dir.resolve("it.db");
  }
}
