package dev.errand.spi;

import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * For backend implementers and integrations: a view of a {@link Backend} that passes every call to
 * it; subclasses override what they change (a view that enqueues in the caller's transaction, one
 * that holds enqueues until a commit). A view owns nothing: {@link #close()} closes nothing, the
 * wrapped backend's owner closes it. As thread-safe as the backend it wraps.
 */
public abstract class ForwardingBackend implements Backend {

  private final Backend delegate;

  /**
   * @param delegate the backend every call not overridden goes to
   */
  protected ForwardingBackend(Backend delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** The backend calls go to. */
  protected final Backend delegate() {
    return delegate;
  }

  @Override
  public Broker broker() {
    return delegate.broker();
  }

  @Override
  public ResultStore results() {
    return delegate.results();
  }

  @Override
  public DeadLetterStore deadLetters() {
    return delegate.deadLetters();
  }

  @Override
  public EventStore events() {
    return delegate.events();
  }

  @Override
  public WorkerRegistry workers() {
    return delegate.workers();
  }

  @Override
  public ScheduleStore schedules() {
    return delegate.schedules();
  }

  @Override
  public Clock clock() {
    return delegate.clock();
  }

  @Override
  public WorkflowStore workflows() {
    return delegate.workflows();
  }

  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    return delegate.settle(batch, ttl);
  }

  @Override
  public Backend joining(Connection connection) {
    return delegate.joining(connection);
  }

  @Override
  public String describe() {
    return delegate.describe();
  }

  /** Closes nothing: the wrapped backend belongs to whoever opened it. */
  @Override
  public void close() {}
}
