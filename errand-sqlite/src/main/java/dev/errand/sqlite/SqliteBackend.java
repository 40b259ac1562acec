package dev.errand.sqlite;

import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.SettleFaults;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkerRegistry;
import dev.errand.spi.WorkflowStore;
import dev.errand.sqlite.internal.Db;
import dev.errand.sqlite.internal.HostClock;
import dev.errand.sqlite.internal.Janitor;
import dev.errand.sqlite.internal.Settlements;
import dev.errand.sqlite.internal.SqliteBroker;
import dev.errand.sqlite.internal.SqliteResultStore;
import dev.errand.sqlite.internal.SqliteScheduleStore;
import dev.errand.sqlite.internal.SqliteStores;
import dev.errand.sqlite.internal.SqliteWorkflowStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The embedded backend: broker, results, dead letters, events, worker heartbeats, schedules, groups
 * and chords in one SQLite file (WAL mode). Several processes on one machine may share the file:
 * claims are atomic across them. Open one per process and share it; thread-safe.
 *
 * <p>URL form: {@code sqlite:PATH}, relative to the working directory ({@code sqlite:errand.db},
 * the default of the command line) or absolute ({@code sqlite:/var/lib/errand/errand.db}).
 *
 * <p>Opened with the system clock, it decides leases, delays, expiry and leadership by the host's
 * clock as the kernel keeps it, not by the clock this process sees (which libfaketime or a
 * virtualized clock can move): {@link #clock()} is this process's clock corrected by its measured
 * offset to the kernel's, and a WARN names both clocks when they are more than a second apart.
 * Opened with another clock (tests), that clock decides everything.
 *
 * <p>A process that only enqueues starts no thread. A consumer's first claim starts a janitor that
 * deletes expired rows and checkpoints the WAL (truncating it) every 30 s; waiting for a result
 * written by another process starts one poller thread while anything waits.
 */
public final class SqliteBackend implements Backend, SettleFaults {

  /** Events kept by default: the newest {@value}. */
  public static final int DEFAULT_EVENT_CAPACITY = 10_000;

  private final Db db;
  private final SqliteBroker broker;
  private final SqliteResultStore results;
  private final SqliteStores.DeadLetters deadLetters;
  private final SqliteStores.Events events;
  private final SqliteStores.Workers workers;
  private final SqliteScheduleStore schedules;
  private final SqliteWorkflowStore workflows;
  private final Settlements settlements;
  private final AtomicReference<Settlement.Step> fault = new AtomicReference<>();
  private final Janitor janitor;
  private final Clock clock;

  private SqliteBackend(Db db, Clock given, int eventCapacity) {
    Clock clock = HostClock.of(given);
    this.clock = clock;
    this.db = db;
    this.janitor = new Janitor(db, clock);
    this.broker = new SqliteBroker(db, clock, janitor::start);
    this.results = new SqliteResultStore(db, clock);
    this.deadLetters = new SqliteStores.DeadLetters(db);
    this.events = new SqliteStores.Events(db, eventCapacity);
    this.workers = new SqliteStores.Workers(db, clock);
    this.schedules = new SqliteScheduleStore(db, clock);
    this.workflows = new SqliteWorkflowStore(db, clock);
    this.settlements = new Settlements(db, broker, results, workflows, clock);
  }

  /**
   * Opens (creating if needed) the database at {@code file}. With the system clock (in any zone)
   * the host's kernel clock decides every time; with any other clock (tests), that clock does.
   *
   * @throws IllegalArgumentException naming the path if its directory does not exist or cannot be
   *     written, or it is a directory
   * @throws dev.errand.BackendException if SQLite cannot open it
   */
  public static SqliteBackend open(Path file, Clock clock) {
    return open(file, clock, DEFAULT_EVENT_CAPACITY);
  }

  /** {@link #open(Path, Clock)} keeping the newest {@code eventCapacity} events. */
  public static SqliteBackend open(Path file, Clock clock, int eventCapacity) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(clock, "clock");
    if (eventCapacity <= 0) {
      throw new IllegalArgumentException("eventCapacity must be > 0 but was " + eventCapacity);
    }
    checkPath(file);
    return new SqliteBackend(new Db(file), clock, eventCapacity);
  }

  /**
   * Opens the database at {@code file} for reading only: for commands that only look ({@code errand
   * inspect}, {@code result}, {@code dlq list}). Nothing is written, not even a schema upgrade, so
   * this works while the disk is full and on a file or directory this process may not write; every
   * write fails with a {@link dev.errand.BackendException} saying the backend is read-only. The
   * file must exist and hold this version's tables.
   *
   * @throws IllegalArgumentException naming the path if it does not exist or is a directory
   * @throws dev.errand.BackendException naming the file and the cause if SQLite cannot read it
   */
  public static SqliteBackend openReadOnly(Path file, Clock clock) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(clock, "clock");
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(
          "cannot open SQLite database '" + file + "': it is a directory");
    }
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(
          "cannot open SQLite database '" + file + "' to read it: it does not exist");
    }
    return new SqliteBackend(Db.readOnly(file), clock, DEFAULT_EVENT_CAPACITY);
  }

  private static void checkPath(Path file) {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    if (Files.isDirectory(abs)) {
      throw new IllegalArgumentException(
          "cannot open SQLite database '" + file + "': it is a directory");
    }
    if (dir == null || !Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "cannot open SQLite database '" + file + "': directory " + dir + " does not exist");
    }
    if (!Files.isWritable(dir)) {
      throw new IllegalArgumentException(
          "cannot open SQLite database '" + file + "': directory " + dir + " is not writable");
    }
    if (Files.exists(abs) && !Files.isWritable(abs)) {
      throw new IllegalArgumentException(
          "cannot open SQLite database '" + file + "': the file is not writable");
    }
  }

  /** The database file. */
  public Path file() {
    return db.file();
  }

  /** Whether this backend was opened with {@link #openReadOnly}. */
  public boolean isReadOnly() {
    return db.isReadOnly();
  }

  /**
   * Deletes expired results, revocations, once keys, idempotency keys, heartbeats, groups, chords
   * and chord parts now (the janitor does this every 30 s in consumer processes).
   *
   * @return how many rows were deleted
   */
  public long purgeExpired() {
    return janitor.purge();
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return results;
  }

  @Override
  public DeadLetterStore deadLetters() {
    return deadLetters;
  }

  @Override
  public EventStore events() {
    return events;
  }

  @Override
  public WorkerRegistry workers() {
    return workers;
  }

  @Override
  public ScheduleStore schedules() {
    return schedules;
  }

  /**
   * With the system clock: the host's clock (this process's clock corrected by its offset to the
   * kernel's, measured at open and every 30 s); else the clock the backend was opened with.
   */
  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public WorkflowStore workflows() {
    return workflows;
  }

  /**
   * Applies the batch in one transaction (one commit for all of it), each settlement only if its
   * receipt is current. A failure rolls back the whole batch, so every settlement of it is applied
   * whole or not at all and the batch may be tried again as it is (or settlement by settlement, to
   * find one that cannot be stored). Ready statuses wake this process's {@link
   * ResultStore#whenReady} waiters at once, other processes' within their poll.
   */
  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    return settlements.settle(batch, ttl, fault.getAndSet(null));
  }

  /**
   * Makes the next {@link #settle} throw a {@link dev.errand.BackendException} once its first
   * settlement has reached {@code step}, inside the transaction, which then rolls back; after
   * {@link Settlement.Step#COMMITTED}, after the commit. Inside the transaction a settlement's
   * parts are written ending first (its keyed write is the receipt check, so {@code
   * RECEIPT_CHECKED} and {@code ENDING} fail at the same point), then the dead letter, follow-ups
   * and chord part, and the batch's statuses last, together. Tests only.
   */
  @Override
  public void failNextSettleAfter(Settlement.Step step) {
    fault.set(Objects.requireNonNull(step, "step"));
  }

  @Override
  public String describe() {
    return "sqlite:" + db.file() + (db.isReadOnly() ? " (read-only)" : "");
  }

  @Override
  public void close() {
    janitor.close();
    broker.close();
    broker.wakeup();
    db.close();
    results.close();
  }
}
