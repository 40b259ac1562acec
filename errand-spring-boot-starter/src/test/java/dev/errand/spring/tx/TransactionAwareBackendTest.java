package dev.errand.spring.tx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.errand.AsyncResult;
import dev.errand.BackendUnavailableException;
import dev.errand.Client;
import dev.errand.EventType;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.ForwardingBackend;
import dev.errand.spi.ForwardingBroker;
import dev.errand.spi.NewMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A held enqueue with a real transaction manager (JDBC on an SQLite file): sent once at commit,
 * dropped on rollback, kept apart by REQUIRES_NEW, duplicates resolved at the send, a failed send
 * thrown to the committer; strict mode names calls made with no transaction.
 */
class TransactionAwareBackendTest {

  static final TaskDef<String, Void> MAIL = TaskDef.of("mail.send", String.class);

  @TempDir Path dir;
  private final InMemoryBackend store = new InMemoryBackend(java.time.Clock.systemUTC());
  private final AtomicBoolean down = new AtomicBoolean();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @AfterEach
  void close() {
    ((Logger) LoggerFactory.getLogger(TransactionAwareBackend.class)).detachAppender(logs);
    store.close();
  }

  private TransactionTemplate transactions(int propagation) {
    DriverManagerDataSource ds =
        new DriverManagerDataSource("jdbc:sqlite:" + dir.resolve("app.db"));
    TransactionTemplate t = new TransactionTemplate(new DataSourceTransactionManager(ds));
    t.setPropagationBehavior(propagation);
    return t;
  }

  /** The memory backend, whose broker fails while {@link #down} is set. */
  private Client client(boolean strict) {
    ForwardingBroker broker =
        new ForwardingBroker(store.broker()) {
          @Override
          public List<EnqueueResult> enqueue(List<NewMessage> messages) {
            if (down.get()) {
              throw new BackendUnavailableException("broker down", null);
            }
            return super.enqueue(messages);
          }
        };
    Backend flaky =
        new ForwardingBackend(store) {
          @Override
          public Broker broker() {
            return broker;
          }
        };
    return Client.create(new TransactionAwareBackend(flaky, null, strict));
  }

  private long ready() {
    return store.broker().stats("default").ready();
  }

  @Test
  void heldUntilCommitThenSentInOneBatchWithTheirSentEvents() throws Exception {
    Client client = client(false);
    List<String> ids =
        transactions(TransactionDefinition.PROPAGATION_REQUIRED)
            .execute(
                s -> {
                  String a = client.enqueue(MAIL, "a@example.com").id();
                  String b = client.enqueue(MAIL, "b@example.com").id();
                  assertThat(ready()).isZero();
                  assertThat(store.events().latest(10)).isEmpty();
                  return List.of(a, b);
                });
    assertThat(ready()).isEqualTo(2);
    assertThat(store.events().latest(10))
        .filteredOn(e -> e.type() == EventType.TASK_SENT)
        .extracting(e -> e.taskId())
        .containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void droppedOnRollback() throws Exception {
    Client client = client(false);
    assertThatThrownBy(
            () ->
                transactions(TransactionDefinition.PROPAGATION_REQUIRED)
                    .execute(
                        s -> {
                          client.enqueue(MAIL, "a@example.com");
                          throw new IllegalStateException("rolled back");
                        }))
        .hasMessage("rolled back");
    assertThat(ready()).isZero();
    assertThat(store.events().latest(10)).isEmpty();
  }

  @Test
  void anInnerRequiresNewTransactionSendsItsOwnAtItsOwnCommit() throws Exception {
    Client client = client(false);
    TransactionTemplate outer = transactions(TransactionDefinition.PROPAGATION_REQUIRED);
    TransactionTemplate inner = transactions(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    assertThatThrownBy(
            () ->
                outer.execute(
                    s -> {
                      client.enqueue(MAIL, "outer@example.com");
                      inner.execute(s2 -> client.enqueue(MAIL, "inner@example.com")); // commits now
                      assertThat(ready()).isEqualTo(1);
                      throw new IllegalStateException("outer rolls back");
                    }))
        .hasMessage("outer rolls back");
    assertThat(ready()).isEqualTo(1);
  }

  @Test
  void aDuplicateIsResolvedAtTheSend() throws Exception {
    Client client = client(false);
    TaskOptions once = TaskOptions.builder().idempotencyKey("welcome-42").build();
    String first = client.enqueue(MAIL, "a@example.com", once).id();
    AsyncResult<Void> second =
        transactions(TransactionDefinition.PROPAGATION_REQUIRED)
            .execute(s -> client.enqueue(MAIL, "a@example.com", once));
    assertThat(second.id()).isNotEqualTo(first); // the id assigned at the call
    assertThat(ready()).isEqualTo(1); // but nothing was sent twice
    assertThat(store.events().latest(10))
        .filteredOn(e -> e.type() == EventType.TASK_SENT)
        .extracting(e -> e.taskId())
        .containsExactly(first);
  }

  @Test
  void aFailedSendAfterTheCommitIsThrownToTheCommitterAndLogged() throws Exception {
    Client client = client(false);
    ((Logger) LoggerFactory.getLogger(TransactionAwareBackend.class)).addAppender(logs);
    logs.start();
    assertThatThrownBy(
            () ->
                transactions(TransactionDefinition.PROPAGATION_REQUIRED)
                    .execute(
                        s -> {
                          String id = client.enqueue(MAIL, "a@example.com").id();
                          down.set(true);
                          return id;
                        }))
        .isInstanceOf(BackendUnavailableException.class);
    assertThat(logs.list)
        .anySatisfy(
            e ->
                assertThat(e.getFormattedMessage())
                    .contains("committed but its 1 task(s) could not be sent"));
  }

  @Test
  void strictModeNamesEnqueuesOutsideATransaction() throws Exception {
    ((Logger) LoggerFactory.getLogger(TransactionAwareBackend.class)).addAppender(logs);
    logs.start();
    Client client = client(true);
    String id = client.enqueue(MAIL, "a@example.com").id();
    assertThat(ready()).isEqualTo(1); // sent at once all the same
    transactions(TransactionDefinition.PROPAGATION_REQUIRED)
        .execute(s -> client.enqueue(MAIL, "b@example.com"));
    assertThat(logs.list)
        .singleElement()
        .satisfies(
            e -> assertThat(e.getFormattedMessage()).contains("no transaction").contains(id));
  }
}
