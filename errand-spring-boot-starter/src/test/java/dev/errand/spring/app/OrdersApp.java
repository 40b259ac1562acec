package dev.errand.spring.app;

import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.spring.ErrandTask;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * A small application as users write them: a {@code @Transactional} service saves an order and
 * enqueues its confirmation; the task, a bean method, reads the order back.
 */
@SpringBootApplication
public class OrdersApp {

  /** The confirmation task as producers name it. */
  public static final TaskDef<Long, String> CONFIRM =
      TaskDef.of("orders.confirm", Long.class, String.class);

  /** Saves orders and enqueues their confirmation, in one transaction. */
  @Service
  public static class Orders {
    private final JdbcTemplate jdbc;
    private final Client client;

    public Orders(JdbcTemplate jdbc, Client client) {
      this.jdbc = jdbc;
      this.client = client;
    }

    /** Saves the order and enqueues its confirmation; returns the task's id. */
    @Transactional
    public String place(long id, String item) {
      jdbc.update("INSERT INTO orders (id, item) VALUES (?, ?)", id, item);
      return client.enqueue(CONFIRM, id).id();
    }

    /** Does what {@link #place} does, then fails: the transaction rolls back. */
    @Transactional
    public void placeThenFail(long id, String item) {
      place(id, item);
      throw new IllegalStateException("payment refused");
    }

    /** How many orders are stored. */
    public int count() {
      Integer n = jdbc.queryForObject("SELECT count(*) FROM orders", Integer.class);
      return n == null ? 0 : n;
    }
  }

  /** The task: reads the order the transaction saved. */
  @org.springframework.stereotype.Component
  public static class Confirmations {
    private final JdbcTemplate jdbc;

    public Confirmations(JdbcTemplate jdbc) {
      this.jdbc = jdbc;
    }

    // Transactional too: the handler is called through the bean's proxy.
    @ErrandTask("orders.confirm")
    @Transactional(readOnly = true)
    public String confirm(Long id) {
      return jdbc.queryForObject("SELECT item FROM orders WHERE id = ?", String.class, id);
    }
  }
}
