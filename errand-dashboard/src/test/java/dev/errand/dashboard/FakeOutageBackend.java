package dev.errand.dashboard;

import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.WorkerRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * An in-memory backend that can stop answering: while {@link #down} every call blocks until {@link
 * #up}, as calls to a Redis that went away wait for the client's timeout (10 s by default). Its
 * event log can also {@link #restartEventLog restart} empty, as a Redis that came back without its
 * data.
 */
final class FakeOutageBackend implements Backend {

  private final Clock clock;
  private final InMemoryBackend inner;
  private volatile EventStore events;
  private volatile CountDownLatch outage;
  private final Broker broker;
  private final ResultStore results;
  private final DeadLetterStore deadLetters;
  private final EventStore eventProxy;
  private final WorkerRegistry workers;
  private final ScheduleStore schedules;

  FakeOutageBackend(Clock clock) {
    this.clock = clock;
    this.inner = new InMemoryBackend(clock);
    this.events = inner.events();
    this.broker = proxy(Broker.class, inner::broker);
    this.results = proxy(ResultStore.class, inner::results);
    this.deadLetters = proxy(DeadLetterStore.class, inner::deadLetters);
    this.eventProxy = proxy(EventStore.class, () -> events);
    this.workers = proxy(WorkerRegistry.class, inner::workers);
    this.schedules = proxy(ScheduleStore.class, inner::schedules);
  }

  /** From now on every call blocks, until {@link #up}. */
  void down() {
    outage = new CountDownLatch(1);
  }

  /** Answers again; the calls that were blocked go on. */
  void up() {
    CountDownLatch o = outage;
    outage = null;
    if (o != null) {
      o.countDown();
    }
  }

  /** The event log starts again, empty, numbering its events from 1. */
  void restartEventLog() {
    events = new InMemoryBackend(clock).events();
  }

  /** {@code type} calling {@code target}, blocking first while the backend is down. */
  private <T> T proxy(Class<T> type, Supplier<Object> target) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (p, method, args) -> {
              CountDownLatch o = outage;
              if (o != null && method.getDeclaringClass() != Object.class) {
                o.await();
              }
              try {
                return method.invoke(target.get(), args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            }));
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
    return eventProxy;
  }

  @Override
  public WorkerRegistry workers() {
    return workers;
  }

  @Override
  public dev.errand.spi.WorkflowStore workflows() {
    return inner.workflows();
  }

  @Override
  public java.util.Set<String> settle(
      java.util.List<dev.errand.spi.Settlement> batch, java.time.Duration ttl) {
    CountDownLatch o = outage;
    if (o != null) {
      try {
        o.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new dev.errand.BackendUnavailableException("interrupted during the outage", e);
      }
    }
    return inner.settle(batch, ttl);
  }

  @Override
  public ScheduleStore schedules() {
    return schedules;
  }

  /** The clock it decides by (overrides {@code Backend.clock()} where the SPI has it). */
  public Clock clock() {
    return clock;
  }

  @Override
  public String describe() {
    return "fake outage backend";
  }

  @Override
  public void close() {
    up();
    inner.close();
  }
}
