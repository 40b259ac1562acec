package dev.errand.postgres.internal;

import dev.errand.Event;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.EventStore;
import dev.errand.spi.ForwardingBroker;
import dev.errand.spi.NewMessage;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.Settlement;
import dev.errand.spi.WorkerRegistry;
import dev.errand.spi.WorkflowStore;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A view of a PostgreSQL backend that enqueues, and publishes the "sent" events, on the caller's
 * connection inside the caller's transaction ({@link Backend#joining}); everything else goes to the
 * backend. The notifications that wake workers are sent in the same transaction, so PostgreSQL
 * delivers them when, and only if, it commits. As thread-safe as the connection.
 */
public final class JoinedBackend implements Backend {

  private final Backend backend;
  private final Pg pg;
  private final PgBroker broker;
  private final PgStores.Events events;
  private final Connection connection;
  private final Broker joinedBroker;
  private final EventStore joinedEvents;

  public JoinedBackend(
      Backend backend, Pg pg, PgBroker broker, PgStores.Events events, Connection connection) {
    this.backend = backend;
    this.pg = pg;
    this.broker = broker;
    this.events = events;
    this.connection = connection;
    this.joinedBroker = new JoinedBroker();
    this.joinedEvents = new JoinedEvents();
  }

  @Override
  public Broker broker() {
    return joinedBroker;
  }

  @Override
  public ResultStore results() {
    return backend.results();
  }

  @Override
  public DeadLetterStore deadLetters() {
    return backend.deadLetters();
  }

  @Override
  public EventStore events() {
    return joinedEvents;
  }

  @Override
  public WorkerRegistry workers() {
    return backend.workers();
  }

  @Override
  public ScheduleStore schedules() {
    return backend.schedules();
  }

  @Override
  public WorkflowStore workflows() {
    return backend.workflows();
  }

  @Override
  public Clock clock() {
    return backend.clock();
  }

  @Override
  public Set<String> settle(List<Settlement> batch, Duration ttl) {
    return backend.settle(batch, ttl);
  }

  @Override
  public Backend joining(Connection other) {
    return backend.joining(other);
  }

  @Override
  public String describe() {
    return backend.describe() + " (in the caller's transaction)";
  }

  /** Closes nothing: the backend and the connection belong to others. */
  @Override
  public void close() {}

  private final class JoinedBroker extends ForwardingBroker {
    JoinedBroker() {
      super(broker);
    }

    @Override
    public List<EnqueueResult> enqueue(List<NewMessage> messages) {
      if (messages.isEmpty()) {
        return List.of();
      }
      return pg.joined("enqueue", connection, t -> broker.enqueue(t, messages));
    }
  }

  private final class JoinedEvents implements EventStore {
    @Override
    public void publish(List<Event> list) {
      pg.joined(
          "publish events",
          connection,
          t -> {
            events.publish(t, list);
            return null;
          });
    }

    @Override
    public List<Event> read(long afterSeq, int limit) {
      return events.read(afterSeq, limit);
    }

    @Override
    public List<Event> latest(int limit) {
      return events.latest(limit);
    }

    @Override
    public List<Event> forTask(String taskId, int limit) {
      return events.forTask(taskId, limit);
    }
  }
}
