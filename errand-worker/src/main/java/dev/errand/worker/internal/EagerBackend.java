package dev.errand.worker.internal;

import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.WorkerRegistry;

/** A backend whose broker runs tasks inline, over another backend's stores. */
public final class EagerBackend implements Backend {

  private final Backend stores;
  private final InlineBroker broker;

  public EagerBackend(Backend stores, InlineBroker broker) {
    this.stores = stores;
    this.broker = broker;
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return stores.results();
  }

  @Override
  public DeadLetterStore deadLetters() {
    return stores.deadLetters();
  }

  @Override
  public EventStore events() {
    return stores.events();
  }

  @Override
  public WorkerRegistry workers() {
    return stores.workers();
  }

  @Override
  public ScheduleStore schedules() {
    return stores.schedules();
  }

  @Override
  public java.time.Clock clock() {
    return stores.clock();
  }

  @Override
  public String describe() {
    return "eager over " + stores.describe();
  }

  @Override
  public void close() {
    stores.close();
  }
}
