package dev.errand.sqlite;

import dev.errand.spi.Backend;
import dev.errand.test.BackendContractTest;
import dev.errand.test.MutableClock;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteBackendContractTest extends BackendContractTest {

  @TempDir Path dir;

  @Override
  protected Backend createBackend(MutableClock clock) {
    return SqliteBackend.open(dir.resolve("contract.db"), clock, 50);
  }

  @Override
  public int eventCapacity() {
    return 50;
  }
}
