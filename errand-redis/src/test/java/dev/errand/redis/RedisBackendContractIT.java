package dev.errand.redis;

import dev.errand.spi.Backend;
import dev.errand.test.BackendContractTest;
import dev.errand.test.MutableClock;

/** The backend contract on the real Redis, each test under a key prefix of its own. */
class RedisBackendContractIT extends BackendContractTest {

  private static final int EVENT_CAPACITY = 300;

  private String prefix;

  @Override
  protected Backend createBackend(MutableClock clock) {
    prefix = RedisTestSupport.newPrefix();
    return RedisBackend.open(RedisTestSupport.url(prefix, "events=" + EVENT_CAPACITY), clock);
  }

  @Override
  public int eventCapacity() {
    return EVENT_CAPACITY;
  }

  @Override
  protected void cleanUp() {
    RedisTestSupport.deleteKeys(prefix);
  }
}
