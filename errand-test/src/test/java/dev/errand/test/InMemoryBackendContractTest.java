package dev.errand.test;

import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;

/** The in-memory backend keeps the backend contract. */
class InMemoryBackendContractTest extends BackendContractTest {

  private static final int EVENT_CAPACITY = 50;

  @Override
  protected Backend createBackend(MutableClock clock) {
    return new InMemoryBackend(clock, EVENT_CAPACITY);
  }

  @Override
  public int eventCapacity() {
    return EVENT_CAPACITY;
  }
}
