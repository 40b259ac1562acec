package dev.errand.redis;

import dev.errand.redis.testing.TestRedis;
import dev.errand.redis.testing.TestRedisCluster;
import dev.errand.spi.Backend;
import dev.errand.test.BackendContractTest;
import dev.errand.test.MutableClock;

/**
 * The backend contract on a real Redis Cluster (three masters, three replicas, started by the
 * tests), through {@code redis-cluster://}: each test under a key prefix of its own, so its queues,
 * results, chords and indexes are spread over the masters by their hash tags.
 */
class RedisClusterContractIT extends BackendContractTest {

  private static final int EVENT_CAPACITY = 300;

  private String prefix;

  @Override
  protected Backend createBackend(MutableClock clock) {
    prefix = TestRedis.newPrefix();
    return RedisBackend.open(TestRedisCluster.url(prefix, "events=" + EVENT_CAPACITY), clock);
  }

  @Override
  public int eventCapacity() {
    return EVENT_CAPACITY;
  }

  @Override
  protected void cleanUp() {
    TestRedisCluster.deleteKeys(prefix);
  }
}
