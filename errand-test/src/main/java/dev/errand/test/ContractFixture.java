package dev.errand.test;

import dev.errand.spi.Backend;

/** What the contract interfaces need from {@link BackendContractTest}. */
interface ContractFixture {

  /** The backend under test, opened before each test. */
  Backend backend();

  /** The clock the backend was opened with. */
  MutableClock clock();

  /** The event log capacity of the backend, or {@link BackendContractTest#UNKNOWN_CAPACITY}. */
  int eventCapacity();
}
