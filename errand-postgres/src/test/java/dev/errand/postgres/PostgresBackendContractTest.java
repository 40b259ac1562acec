package dev.errand.postgres;

import dev.errand.postgres.testing.TestPostgres;
import dev.errand.spi.Backend;
import dev.errand.test.BackendContractTest;
import dev.errand.test.MutableClock;

/** The backend contract on PostgreSQL: each test in a schema of its own, dropped afterwards. */
class PostgresBackendContractTest extends BackendContractTest {

  private static final int EVENT_CAPACITY = 200;

  private String schema;

  @Override
  protected Backend createBackend(MutableClock clock) {
    schema = TestPostgres.newSchema();
    return PostgresBackend.open(TestPostgres.url(schema), clock, EVENT_CAPACITY);
  }

  @Override
  protected void cleanUp() {
    if (schema != null) {
      TestPostgres.dropSchema(schema);
    }
  }

  @Override
  public int eventCapacity() {
    return EVENT_CAPACITY;
  }
}
