package dev.errand.redis;

import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.Backend;
import dev.errand.test.BackendContractTest;
import dev.errand.test.MutableClock;

/** The backend contract on the real Redis, each test under a key prefix of its own. */
class RedisBackendContractIT extends BackendContractTest {

  private static final int EVENT_CAPACITY = 300;

  private String prefix;

  @Override
  protected Backend createBackend(MutableClock clock) {
    prefix = TestRedis.newPrefix();
    return RedisBackend.open(TestRedis.url(prefix, "events=" + EVENT_CAPACITY), clock);
  }

  @Override
  public int eventCapacity() {
    return EVENT_CAPACITY;
  }

  @Override
  protected void cleanUp() {
    TestRedis.deleteKeys(prefix);
  }
}
