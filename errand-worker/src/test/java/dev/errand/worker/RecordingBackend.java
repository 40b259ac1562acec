package dev.errand.worker;

import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.EventStore;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.WorkerRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/** A backend that counts broker calls, over a real one. */
final class RecordingBackend implements Backend {

  final Backend inner;
  final AtomicInteger renewals = new AtomicInteger();
  final AtomicInteger releases = new AtomicInteger();
  final AtomicInteger acks = new AtomicInteger();
  private final Broker broker;

  RecordingBackend(Backend inner) {
    this.inner = inner;
    Broker b = inner.broker();
    this.broker =
        new Broker() {
          @Override
          public List<EnqueueResult> enqueue(List<NewMessage> messages) {
            return b.enqueue(messages);
          }

          @Override
          public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
              throws InterruptedException {
            return b.claim(queues, max, lease, wait);
          }

          @Override
          public boolean ack(Delivery delivery) {
            acks.incrementAndGet();
            return b.ack(delivery);
          }

          @Override
          public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
            Set<String> lost = b.renew(deliveries, lease);
            renewals.incrementAndGet();
            return lost;
          }

          @Override
          public boolean release(Delivery delivery) {
            releases.incrementAndGet();
            return b.release(delivery);
          }

          @Override
          public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
            return b.retry(delivery, body, notBefore);
          }

          @Override
          public void wakeup() {
            b.wakeup();
          }

          @Override
          public List<String> queues() {
            return b.queues();
          }

          @Override
          public QueueStats stats(String queue) {
            return b.stats(queue);
          }

          @Override
          public long purge(String queue) {
            return b.purge(queue);
          }
        };
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public ResultStore results() {
    return inner.results();
  }

  @Override
  public DeadLetterStore deadLetters() {
    return inner.deadLetters();
  }

  @Override
  public EventStore events() {
    return inner.events();
  }

  @Override
  public WorkerRegistry workers() {
    return inner.workers();
  }

  @Override
  public ScheduleStore schedules() {
    return inner.schedules();
  }

  /** How many of the next {@link #storeAndAck} calls fail, as if the backend were down. */
  final java.util.concurrent.atomic.AtomicInteger failingWrites =
      new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public java.util.Set<String> storeAndAck(
      java.util.List<dev.errand.TaskStatus> statuses, Duration ttl, java.util.List<Delivery> acks) {
    if (failingWrites.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new dev.errand.BackendException("injected: backend down", null);
    }
    return Backend.super.storeAndAck(statuses, ttl, acks);
  }

  @Override
  public String describe() {
    return "recording " + inner.describe();
  }

  @Override
  public void close() {
    inner.close();
  }
}
