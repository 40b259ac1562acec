package dev.errand.postgres.internal;

import dev.errand.Event;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.EventStore;
import dev.errand.spi.ForwardingBackend;
import dev.errand.spi.ForwardingBroker;
import dev.errand.spi.ForwardingEventStore;
import dev.errand.spi.NewMessage;
import java.sql.Connection;
import java.util.List;

/**
 * A view of a PostgreSQL backend that enqueues, and publishes the "sent" events, on the caller's
 * connection inside the caller's transaction ({@link Backend#joining}); everything else goes to the
 * backend. The notifications that wake workers are sent in the same transaction, so PostgreSQL
 * delivers them when, and only if, it commits. As thread-safe as the connection.
 */
public final class JoinedBackend extends ForwardingBackend {

  private final Pg pg;
  private final PgBroker broker;
  private final PgStores.Events events;
  private final Connection connection;
  private final Broker joinedBroker;
  private final EventStore joinedEvents;

  public JoinedBackend(
      Backend backend, Pg pg, PgBroker broker, PgStores.Events events, Connection connection) {
    super(backend);
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
  public EventStore events() {
    return joinedEvents;
  }

  @Override
  public String describe() {
    return delegate().describe() + " (in the caller's transaction)";
  }

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

  private final class JoinedEvents extends ForwardingEventStore {
    JoinedEvents() {
      super(events);
    }

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
  }
}
