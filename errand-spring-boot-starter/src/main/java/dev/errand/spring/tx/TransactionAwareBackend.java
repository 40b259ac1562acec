package dev.errand.spring.tx;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * A backend whose enqueues follow the Spring transaction of the calling thread. A {@link
 * dev.errand.Client} built on it sends as usual outside a transaction; inside one:
 *
 * <ul>
 *   <li><b>joined</b>, when the backend stores tasks in the transaction's own database (PostgreSQL
 *       on the application's {@link DataSource}, and the transaction holds a connection of it): the
 *       messages, their idempotency and unique keys and their sent events are written on the
 *       transaction's connection, visible to workers at commit and gone on rollback;
 *   <li><b>held</b> on every other backend (Redis, SQLite, PostgreSQL on a pool of its own, or a
 *       transaction on another resource): the messages wait in the transaction and are sent in one
 *       batch after it commits; on rollback they are dropped. The ids are assigned at the call, so
 *       the handle returned inside the transaction can be stored in the row being saved.
 * </ul>
 *
 * <p>What a held enqueue cannot promise, and docs/spring.md says: the send after the commit is a
 * second write. If the backend fails then, the error is logged with every task id and thrown to the
 * code that committed (whose data is committed); and an idempotency or unique key is checked at the
 * send, so the handle of a call that turns out to be a duplicate names a task that never runs. A
 * chain, chord or group records its workflow state at the call; on rollback that state is left to
 * expire.
 *
 * <p>With {@code strict}, every enqueue made with no transaction active is logged as a warning
 * naming the task, to find calls that belong in one.
 *
 * <p>Thread-safe: what is held belongs to the calling thread's transaction.
 */
public final class TransactionAwareBackend extends ForwardingBackend {

  private static final Logger log = LoggerFactory.getLogger(TransactionAwareBackend.class);

  private final DataSource joinable;
  private final boolean strict;
  private final Broker broker;
  private final EventStore events;

  /**
   * Wraps {@code backend}.
   *
   * @param backend the backend sent to (not closed by {@link #close()}: its owner closes it)
   * @param joinable the application's DataSource that {@code backend} stores tasks in (the
   *     PostgreSQL backend on it), or null when it stores them elsewhere
   * @param strict log a warning for each enqueue made with no transaction active
   */
  public TransactionAwareBackend(Backend backend, DataSource joinable, boolean strict) {
    super(backend);
    this.joinable = joinable;
    this.strict = strict;
    this.broker = new TxBroker(backend.broker());
    this.events = new TxEvents(backend.events());
  }

  /** The backend this one sends to. */
  public Backend target() {
    return delegate();
  }

  /** Whether enqueues in a transaction on {@code joinable} are joined to it rather than held. */
  public boolean joins() {
    return joinable != null;
  }

  @Override
  public Broker broker() {
    return broker;
  }

  @Override
  public EventStore events() {
    return events;
  }

  /** What the current transaction asks of an enqueue. */
  private enum Mode {
    NOW,
    JOIN,
    HOLD
  }

  private Mode mode() {
    if (!TransactionSynchronizationManager.isActualTransactionActive()
        || !TransactionSynchronizationManager.isSynchronizationActive()) {
      return Mode.NOW;
    }
    // Joined only when the transaction holds a connection of the backend's own DataSource; a
    // transaction on another resource (JPA on another database, JMS) can only be followed.
    if (joinable != null && TransactionSynchronizationManager.hasResource(joinable)) {
      return Mode.JOIN;
    }
    return Mode.HOLD;
  }

  private final class TxBroker extends ForwardingBroker {
    TxBroker(Broker delegate) {
      super(delegate);
    }

    @Override
    public List<EnqueueResult> enqueue(List<NewMessage> messages) {
      switch (mode()) {
        case JOIN:
          return joined(b -> b.broker().enqueue(messages));
        case HOLD:
          return held().hold(messages);
        default:
          if (strict && !messages.isEmpty()) {
            log.warn(
                "{} task(s) enqueued with no transaction active (errand.transaction.strict): {}",
                messages.size(),
                describe(messages));
          }
          return delegate().enqueue(messages);
      }
    }
  }

  private final class TxEvents extends ForwardingEventStore {
    TxEvents(EventStore delegate) {
      super(delegate);
    }

    @Override
    public void publish(List<Event> list) {
      switch (mode()) {
        case JOIN ->
            joined(
                b -> {
                  b.events().publish(list);
                  return null;
                });
        case HOLD -> held().holdEvents(list);
        default -> delegate().publish(list);
      }
    }
  }

  private <T> T joined(java.util.function.Function<Backend, T> work) {
    Connection c = DataSourceUtils.getConnection(joinable);
    try {
      return work.apply(delegate().joining(c));
    } finally {
      DataSourceUtils.releaseConnection(c, joinable);
    }
  }

  /** The calling thread's transaction's held sends, registered with it on first use. */
  private Held held() {
    Held h = (Held) TransactionSynchronizationManager.getResource(this);
    if (h == null) {
      h = new Held();
      TransactionSynchronizationManager.bindResource(this, h);
      TransactionSynchronizationManager.registerSynchronization(h);
    }
    return h;
  }

  private static String describe(List<NewMessage> messages) {
    StringBuilder b = new StringBuilder();
    int shown = Math.min(messages.size(), 10);
    for (int i = 0; i < shown; i++) {
      NewMessage m = messages.get(i);
      if (i > 0) {
        b.append(", ");
      }
      b.append(m.id()).append(" (queue ").append(m.queue()).append(')');
    }
    if (messages.size() > shown) {
      b.append(" and ").append(messages.size() - shown).append(" more");
    }
    return b.toString();
  }

  /**
   * The sends held by one transaction. Bound as a transaction resource under the backend (so a
   * suspended transaction's sends stay with it) and registered as its synchronization.
   */
  private final class Held implements TransactionSynchronization {
    private final List<NewMessage> messages = new ArrayList<>();
    private final List<Event> events = new ArrayList<>();

    List<EnqueueResult> hold(List<NewMessage> batch) {
      messages.addAll(batch);
      List<EnqueueResult> out = new ArrayList<>(batch.size());
      for (NewMessage m : batch) {
        out.add(new EnqueueResult(m.id(), false));
      }
      return out;
    }

    void holdEvents(List<Event> batch) {
      events.addAll(batch);
    }

    @Override
    public void suspend() {
      TransactionSynchronizationManager.unbindResource(TransactionAwareBackend.this);
    }

    @Override
    public void resume() {
      TransactionSynchronizationManager.bindResource(TransactionAwareBackend.this, this);
    }

    @Override
    public void afterCommit() {
      if (messages.isEmpty()) {
        return;
      }
      List<EnqueueResult> results;
      try {
        results = delegate().broker().enqueue(messages);
      } catch (RuntimeException e) {
        log.error(
            "the transaction committed but its {} task(s) could not be sent: {}",
            messages.size(),
            describe(messages),
            e);
        throw e;
      }
      if (events.isEmpty()) {
        return;
      }
      // A call that turned out to be a duplicate sent nothing, so it has no sent event either.
      Set<String> duplicates = new java.util.HashSet<>();
      for (int i = 0; i < results.size(); i++) {
        if (results.get(i).duplicate()) {
          duplicates.add(messages.get(i).id());
        }
      }
      List<Event> sent = new ArrayList<>(events.size());
      for (Event e : events) {
        if (!duplicates.contains(e.taskId())) {
          sent.add(e);
        }
      }
      try {
        delegate().events().publish(sent);
      } catch (RuntimeException e) {
        log.warn("the sent events of {} task(s) were not recorded: {}", sent.size(), e.toString());
      }
    }

    @Override
    public void afterCompletion(int status) {
      TransactionSynchronizationManager.unbindResourceIfPossible(TransactionAwareBackend.this);
      if (status != STATUS_COMMITTED && !messages.isEmpty()) {
        log.debug(
            "the transaction rolled back: {} task(s) not sent: {}",
            messages.size(),
            describe(messages));
      }
    }
  }
}
