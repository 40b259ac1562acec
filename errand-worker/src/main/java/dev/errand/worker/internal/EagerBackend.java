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
  // Chords count here, in memory: a callback they release runs inline like any follow-up, and
  // never lands in the broker of the stores (which may be a real one that others consume).
  private final dev.errand.memory.InMemoryBackend flows;

  public EagerBackend(Backend stores, InlineBroker broker) {
    this.stores = stores;
    this.broker = broker;
    this.flows = new dev.errand.memory.InMemoryBackend(stores.clock());
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

  /** Groups and chords of eager mode, kept in memory (see {@link #settle}). */
  @Override
  public dev.errand.spi.WorkflowStore workflows() {
    return flows.workflows();
  }

  /**
   * Settles on the stores; ends the inline delivery through the inline broker (a retry runs again
   * once this attempt is over) and sends the follow-ups through it, so they run on the caller's
   * thread as they are enqueued.
   */
  @Override
  public java.util.Set<String> settle(
      java.util.List<dev.errand.spi.Settlement> batch, java.time.Duration ttl) {
    java.util.List<dev.errand.spi.Settlement> stored = new java.util.ArrayList<>(batch.size());
    java.util.List<dev.errand.spi.NewMessage> followUps = new java.util.ArrayList<>();
    for (dev.errand.spi.Settlement s : batch) {
      stored.add(
          new dev.errand.spi.Settlement(
              null, null, s.deadLetter(), s.statuses(), java.util.List.of(), null));
      followUps.addAll(s.followUps());
      if (s.chordPart() != null) {
        flows.settle(
            java.util.List.of(
                new dev.errand.spi.Settlement(
                    null, null, null, java.util.List.of(), java.util.List.of(), s.chordPart())),
            ttl);
        followUps.addAll(releasedCallbacks());
      }
    }
    java.util.Set<String> stale = stores.settle(stored, ttl);
    for (dev.errand.spi.Settlement s : batch) {
      // A retry or a hand-back runs the task again on this thread once the attempt is over.
      if (s.ending() instanceof dev.errand.spi.Settlement.Ending.Retry r) {
        broker.retry(s.delivery(), r.body(), r.notBefore());
      } else if (s.ending() instanceof dev.errand.spi.Settlement.Ending.Release) {
        broker.release(s.delivery());
      }
    }
    if (!followUps.isEmpty()) {
      broker.followUps(followUps);
    }
    return stale;
  }

  /** The chord callbacks the last chord part released, taken out of the in-memory broker. */
  private java.util.List<dev.errand.spi.NewMessage> releasedCallbacks() {
    java.util.List<dev.errand.spi.NewMessage> out = new java.util.ArrayList<>();
    for (String queue : flows.broker().queues()) {
      java.util.List<dev.errand.spi.Delivery> ready;
      try {
        ready =
            flows
                .broker()
                .claim(
                    java.util.List.of(queue),
                    1000,
                    java.time.Duration.ofMinutes(1),
                    java.time.Duration.ZERO);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return out;
      }
      for (dev.errand.spi.Delivery d : ready) {
        flows.broker().ack(d);
        out.add(
            new dev.errand.spi.NewMessage(
                d.id(), d.queue(), d.priority(), d.body(), null, null, null));
      }
    }
    return out;
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
