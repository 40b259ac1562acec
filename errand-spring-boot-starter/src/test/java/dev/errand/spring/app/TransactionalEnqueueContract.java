package dev.errand.spring.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.Client;
import dev.errand.spi.Backend;
import dev.errand.spi.QueueStats;
import dev.errand.spi.TaskQuery;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;

/**
 * What a {@code @Transactional} method that saves a row and enqueues a task must do on every
 * backend, with a worker in the application: commit, and the task runs and sees the row; roll back,
 * and there is neither row nor task. Subclasses choose the backend.
 */
// Closed after each class (its worker stopped first), so a subclass's cleanup bean runs then.
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
public abstract class TransactionalEnqueueContract {

  @Autowired OrdersApp.Orders orders;
  @Autowired Client client;
  @Autowired Backend backend;
  @Autowired JdbcTemplate jdbc;

  @BeforeEach
  void table() {
    jdbc.execute("CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, item text NOT NULL)");
    jdbc.execute("DELETE FROM orders");
  }

  @Test
  void committedTheTaskRunsAndSeesTheRow() throws Exception {
    String id = orders.place(1, "teapot");
    assertThat(client.result(id, OrdersApp.CONFIRM).get(Duration.ofSeconds(20)))
        .isEqualTo("teapot");
    assertThat(orders.count()).isEqualTo(1);
  }

  @Test
  void rolledBackThereIsNoRowAndNoTask() throws Exception {
    Set<String> before = confirmations();
    assertThatThrownBy(() -> orders.placeThenFail(2, "kettle"))
        .hasMessageContaining("payment refused");
    assertThat(orders.count()).isZero();
    // A later committed call runs; had the rolled-back one been sent, it would be a task too
    // (failing and retrying on its missing row) and the queue would not be empty.
    String later = orders.place(3, "cup");
    assertThat(client.result(later, OrdersApp.CONFIRM).get(Duration.ofSeconds(20)))
        .isEqualTo("cup");
    Set<String> sent = confirmations();
    sent.removeAll(before);
    assertThat(sent).containsExactly(later);
    QueueStats q = backend.broker().stats("default");
    assertThat(q.ready() + q.delayed() + q.leased()).isZero();
  }

  /** The ids of every orders.confirm task the backend has a status of. */
  private Set<String> confirmations() {
    Set<String> ids = new HashSet<>();
    for (var t :
        backend
            .results()
            .search(TaskQuery.builder().name("orders.confirm").limit(1000).build())
            .tasks()) {
      ids.add(t.id());
    }
    return ids;
  }
}
