package dev.errand.memory;

import dev.errand.BackendException;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EventStore;
import dev.errand.spi.NewMessage;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.SettleFaults;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkerRegistry;
import dev.errand.spi.WorkflowStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A backend that keeps everything in this JVM's memory: for unit tests, eager mode and trying
 * Errand out. Nothing survives the process, and only clients and workers in the same JVM share it.
 * It keeps the same contract as the persistent backends (it passes {@code BackendContractTest}).
 *
 * <pre>{@code
 * Backend backend = new InMemoryBackend(Clock.systemUTC());
 * Client client = Client.create(backend);
 * }</pre>
 *
 * <p>Every expiry, lease and delay is decided on the {@link Clock} given here, so a test that
 * advances a settable clock controls time; only the bound of a blocking {@link Broker#claim} is
 * real time (see {@link #MAX_WAIT_STEP_MILLIS}). The event log keeps the newest {@link
 * #eventCapacity()} events. Also opened by {@code Backends.open("memory:")} (see {@link
 * InMemoryBackendProvider}).
 *
 * <p>Thread-safe: share one instance between clients and workers.
 */
public final class InMemoryBackend implements Backend, SettleFaults {

  /** Events kept by the event log unless another capacity is given: {@value}. */
  public static final int DEFAULT_EVENT_CAPACITY = 10_000;

  /**
   * The longest a blocking claim sleeps, in real milliseconds, before it re-checks the clock for
   * due messages and expired leases: {@value}.
   */
  public static final long MAX_WAIT_STEP_MILLIS = 50;

  private final String description;
  private final MemoryBroker broker;
  private final MemoryResultStore results;
  private final MemoryDeadLetterStore deadLetters;
  private final MemoryEventStore events;
  private final MemoryWorkerRegistry workers;
  private final MemoryScheduleStore schedules;
  private final MemoryWorkflowStore workflows;
  private final AtomicReference<Settlement.Step> fault = new AtomicReference<>();
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * A backend on {@code clock} with an event log of {@value #DEFAULT_EVENT_CAPACITY} events.
   *
   * @throws NullPointerException if {@code clock} is null
   */
  public InMemoryBackend(Clock clock) {
    this(clock, DEFAULT_EVENT_CAPACITY);
  }

  /**
   * A backend on {@code clock} whose event log keeps the newest {@code eventCapacity} events.
   *
   * @param eventCapacity events kept, {@code > 0}
   * @throws IllegalArgumentException if {@code eventCapacity <= 0}
   */
  public InMemoryBackend(Clock clock, int eventCapacity) {
    this("memory:", clock, eventCapacity);
  }

  InMemoryBackend(String description, Clock clock, int eventCapacity) {
    Objects.requireNonNull(clock, "clock");
    this.description = description;
    this.clock = clock;
    this.events = new MemoryEventStore(eventCapacity);
    this.broker = new MemoryBroker(clock, description);
    this.results = new MemoryResultStore(clock, description);
    this.deadLetters = new MemoryDeadLetterStore();
    this.workers = new MemoryWorkerRegistry(clock);
    this.schedules = new MemoryScheduleStore(clock);
    this.workflows = new MemoryWorkflowStore(clock);
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

  @Override
  public WorkflowStore workflows() {
    return workflows;
  }

  /**
   * Applies each settlement under the broker's lock, so no claim, ack or enqueue of another thread
   * comes between its parts. Every check comes before the first write, and the writes (to maps in
   * memory) cannot fail halfway.
   */
  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    Objects.requireNonNull(batch, "batch");
    Durations.requirePositive(ttl, "ttl");
    Set<String> stale = new LinkedHashSet<>();
    List<Runnable> wakeUps = new ArrayList<>();
    Settlement.Step failAfter = fault.getAndSet(null);
    try {
      for (Settlement s : batch) {
        boolean current =
            broker.whileLeased(
                s.delivery(),
                () -> {
                  for (Settlement.Step step : Settlement.Step.values()) {
                    if (step != Settlement.Step.COMMITTED && step == failAfter) {
                      throw new BackendException("injected failure after " + step, null);
                    }
                  }
                  apply(s, ttl, wakeUps);
                });
        if (!current) {
          stale.add(s.delivery().id());
        }
      }
      if (failAfter == Settlement.Step.COMMITTED) {
        throw new BackendException("injected failure after " + failAfter + " (reply lost)", null);
      }
    } finally {
      wakeUps.forEach(Runnable::run);
    }
    return stale;
  }

  private void apply(Settlement s, Duration ttl, List<Runnable> wakeUps) {
    if (s.deadLetter() != null) {
      deadLetters.add(s.deadLetter());
    }
    if (!s.statuses().isEmpty()) {
      wakeUps.add(results.storeAll(s.statuses(), ttl));
    }
    Delivery d = s.delivery();
    if (s.ending() instanceof Settlement.Ending.Ack) {
      broker.ack(d);
    } else if (s.ending() instanceof Settlement.Ending.Release) {
      broker.release(d);
    } else if (s.ending() instanceof Settlement.Ending.Retry r) {
      broker.retry(d, r.body(), r.notBefore());
    }
    List<NewMessage> enqueue = new ArrayList<>(s.followUps());
    if (s.chordPart() != null) {
      NewMessage callback = workflows.record(s.chordPart(), ttl);
      if (callback != null) {
        enqueue.add(callback);
      }
    }
    if (!enqueue.isEmpty()) {
      broker.enqueueNew(enqueue);
    }
  }

  /** Makes the next {@link #settle} fail after {@code step} (tests). */
  @Override
  public void failNextSettleAfter(Settlement.Step step) {
    fault.set(Objects.requireNonNull(step, "step"));
  }

  /** The clock this backend was opened with: it decides every lease, delay and expiry. */
  @Override
  public Clock clock() {
    return clock;
  }

  /** How many events the event log keeps; the oldest are dropped beyond it. */
  public int eventCapacity() {
    return events.capacity();
  }

  /** {@code memory:} or {@code memory:NAME}. */
  @Override
  public String describe() {
    return description;
  }

  /**
   * Closes the backend. Idempotent. Claims blocked in the broker return at once; later enqueues and
   * claims throw {@link IllegalStateException}; waits on results that are not ready fail with
   * {@link dev.errand.BackendException}. What is stored stays readable until the backend is garbage
   * collected.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      broker.close();
      results.close();
    }
  }

  @Override
  public String toString() {
    return "InMemoryBackend[" + description + "]";
  }
}
