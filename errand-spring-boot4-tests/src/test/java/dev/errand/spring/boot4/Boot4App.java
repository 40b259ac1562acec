package dev.errand.spring.boot4;

import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.spring.ErrandTask;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** A Spring Boot 4 application: a transactional service and a task that reads its row. */
@SpringBootApplication
public class Boot4App {

  public static final TaskDef<Long, String> CONFIRM =
      TaskDef.of("orders.confirm", Long.class, String.class);

  @Service
  public static class Orders {
    private final JdbcTemplate jdbc;
    private final Client client;

    public Orders(JdbcTemplate jdbc, Client client) {
      this.jdbc = jdbc;
      this.client = client;
    }

    @Transactional
    public String place(long id, String item) {
      jdbc.update("INSERT INTO orders (id, item) VALUES (?, ?)", id, item);
      return client.enqueue(CONFIRM, id).id();
    }

    @Transactional
    public void placeThenFail(long id, String item) {
      place(id, item);
      throw new IllegalStateException("payment refused");
    }
  }

  @Component
  public static class Confirmations {
    private final JdbcTemplate jdbc;

    public Confirmations(JdbcTemplate jdbc) {
      this.jdbc = jdbc;
    }

    @ErrandTask("orders.confirm")
    public String confirm(Long id) {
      return jdbc.queryForObject("SELECT item FROM orders WHERE id = ?", String.class, id);
    }
  }
}
