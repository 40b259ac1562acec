package dev.errand.spi;

import dev.errand.Event;
import java.util.List;
import java.util.Objects;

/**
 * For backend implementers and integrations: an {@link EventStore} that passes every call to
 * another; subclasses override what they change (usually {@link #publish}). As thread-safe as the
 * store it wraps.
 */
public abstract class ForwardingEventStore implements EventStore {

  private final EventStore delegate;

  /**
   * @param delegate the store every call not overridden goes to
   */
  protected ForwardingEventStore(EventStore delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** The store calls go to. */
  protected final EventStore delegate() {
    return delegate;
  }

  @Override
  public void publish(List<Event> events) {
    delegate.publish(events);
  }

  @Override
  public List<Event> read(long afterSeq, int limit) {
    return delegate.read(afterSeq, limit);
  }

  @Override
  public List<Event> latest(int limit) {
    return delegate.latest(limit);
  }

  @Override
  public List<Event> forTask(String taskId, int limit) {
    return delegate.forTask(taskId, limit);
  }
}
