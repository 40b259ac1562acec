package dev.errand.cli;

import dev.errand.postgres.testing.TestPostgres;
import java.nio.file.Path;

/** The clock skew process test on PostgreSQL: the database's clock decides. */
class PostgresClockSkewProcessIT extends ClockSkewProcessIT {

  private String schema;

  @Override
  String newBackendUrl(Path dir) {
    schema = TestPostgres.newSchema();
    return TestPostgres.url(schema);
  }

  @Override
  void cleanUp() {
    TestPostgres.dropSchema(schema);
  }
}
