package dev.errand.test;

import dev.errand.spi.Backend;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every {@link Backend} keeps, as tests: the broker's delivery, ordering, lease,
 * receipt, retry, delay, idempotency and blocking-claim rules, and the result, dead letter, event,
 * worker and schedule stores. Subclass it once per backend:
 *
 * <pre>{@code
 * class SqliteBackendContractTest extends BackendContractTest {
 *   @TempDir Path dir;
 *
 *   @Override
 *   protected Backend createBackend(MutableClock clock) {
 *     return SqliteBackend.open(dir.resolve("errand.db"), clock);
 *   }
 * }
 * }</pre>
 *
 * <p>Each test gets a new {@link MutableClock} at {@link MutableClock#DEFAULT_START} and a backend
 * from {@link #createBackend} that must start empty; it is closed after the test, then {@link
 * #cleanUp()} runs. Time is moved with the clock, never waited for; a few tests run real threads
 * (blocking claims, concurrent consumers) and wait for them with generous bounds, but no test
 * asserts speed. Every test has a time limit of {@value #TIME_LIMIT_SECONDS} seconds.
 *
 * <p>The tests themselves are listed by area in the package-private interfaces this class
 * implements: {@code BrokerContract}, {@code LeaseContract}, {@code BlockingClaimContract}, {@code
 * ResultStoreContract}, {@code DeadLetterContract}, {@code EventContract}, {@code
 * WorkerRegistryContract}, {@code ScheduleStoreContract}, {@code TaskSearchContract}, {@code
 * SettlementContract}, {@code WorkflowStoreContract} and {@code FlowControlContract}.
 */
@Timeout(value = BackendContractTest.TIME_LIMIT_SECONDS, unit = TimeUnit.SECONDS)
public abstract class BackendContractTest
    implements ContractFixture,
        BrokerContract,
        LeaseContract,
        BlockingClaimContract,
        ResultStoreContract,
        DeadLetterContract,
        EventContract,
        WorkerRegistryContract,
        ScheduleStoreContract,
        TaskSearchContract,
        SettlementContract,
        WorkflowStoreContract,
        FlowControlContract {

  /** What {@link #eventCapacity()} returns for a backend whose event log has no fixed capacity. */
  public static final int UNKNOWN_CAPACITY = -1;

  /** The time limit of each test, in seconds: {@value}. */
  public static final long TIME_LIMIT_SECONDS = 60;

  private MutableClock clock;
  private Backend backend;

  /** For subclasses. */
  protected BackendContractTest() {}

  /**
   * Opens a new, empty backend on {@code clock}: every time and expiry it decides must come from
   * this clock. Called before each test.
   *
   * @param clock the test's clock, at {@link MutableClock#DEFAULT_START}
   * @return the backend under test, never null
   * @throws Exception if it cannot be opened; the test fails
   */
  protected abstract Backend createBackend(MutableClock clock) throws Exception;

  /**
   * Runs after each test, once the backend is closed: delete files or data the backend left behind.
   * Does nothing by default.
   *
   * @throws Exception if cleaning up fails; the test fails
   */
  protected void cleanUp() throws Exception {}

  /**
   * The number of events the backend's event log keeps, so the suite can check that the oldest are
   * dropped beyond it; {@link #UNKNOWN_CAPACITY} (the default) skips that test. Keep it small (a
   * few hundred at most): the test publishes that many events.
   */
  @Override
  public int eventCapacity() {
    return UNKNOWN_CAPACITY;
  }

  /** The backend under test; opened before each test. */
  @Override
  public final Backend backend() {
    return backend;
  }

  /** The clock the backend under test was opened with. */
  @Override
  public final MutableClock clock() {
    return clock;
  }

  @BeforeEach
  final void openBackend() throws Exception {
    clock = new MutableClock();
    backend = Objects.requireNonNull(createBackend(clock), "createBackend returned null");
  }

  @AfterEach
  final void closeBackend() throws Exception {
    try {
      if (backend != null) {
        backend.close();
      }
    } finally {
      cleanUp();
    }
  }
}
