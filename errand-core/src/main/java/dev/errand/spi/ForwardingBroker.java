package dev.errand.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * For backend implementers and test support: a {@link Broker} that passes every call to another;
 * subclasses override what they change (a broker that enqueues in the caller's transaction, one
 * that records enqueues). As thread-safe as the broker it wraps.
 */
public abstract class ForwardingBroker implements Broker {

  private final Broker delegate;

  /**
   * @param delegate the broker every call not overridden goes to
   */
  protected ForwardingBroker(Broker delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** The broker calls go to. */
  protected final Broker delegate() {
    return delegate;
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    return delegate.enqueue(messages);
  }

  @Override
  public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
      throws InterruptedException {
    return delegate.claim(queues, max, lease, wait);
  }

  @Override
  public boolean ack(Delivery delivery) {
    return delegate.ack(delivery);
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    return delegate.renew(deliveries, lease);
  }

  @Override
  public boolean release(Delivery delivery) {
    return delegate.release(delivery);
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    return delegate.retry(delivery, body, notBefore);
  }

  @Override
  public void wakeup() {
    delegate.wakeup();
  }

  @Override
  public List<String> queues() {
    return delegate.queues();
  }

  @Override
  public QueueStats stats(String queue) {
    return delegate.stats(queue);
  }

  @Override
  public void pause(String queue) {
    delegate.pause(queue);
  }

  @Override
  public void resume(String queue) {
    delegate.resume(queue);
  }

  @Override
  public List<String> pausedQueues() {
    return delegate.pausedQueues();
  }

  @Override
  public List<LimitStats> limits(String queue, int max) {
    return delegate.limits(queue, max);
  }

  @Override
  public long purge(String queue) {
    return delegate.purge(queue);
  }

  @Override
  public int shards(String queue) {
    return delegate.shards(queue);
  }

  @Override
  public void setShards(String queue, int shards) {
    delegate.setShards(queue, shards);
  }
}
