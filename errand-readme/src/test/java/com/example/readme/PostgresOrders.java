package com.example.readme;

// readme:begin postgres-open
import dev.errand.Backends;
import dev.errand.spi.Backend;
// readme:end
// readme:begin postgres-orders
import dev.errand.Client;
import dev.errand.TaskDef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;
// readme:end

/** docs/postgres.md's transactional enqueue, compiled and run by {@code PostgresOrdersTest}. */
final class PostgresOrders {
  private PostgresOrders() {}

  /** The page's first example: compiled, not run (it names a server that is not there). */
  static void open() {
    // readme:begin postgres-open
    try (Backend backend = Backends.open("postgresql://app:s3cret@db.internal/shop?schema=errand")) {
      Client client = Client.create(backend);
      client.enqueue(SEND_RECEIPT, new Receipt("o-1"));
    }
    // readme:end
  }

  // readme:begin postgres-orders
  record Receipt(String orderId) {}

  static final TaskDef<Receipt, Void> SEND_RECEIPT =
      TaskDef.of("orders.send_receipt", Receipt.class, Void.class);

  /** Saves the order and enqueues its receipt in one transaction: both, or neither. */
  static void placeOrder(DataSource db, Client client, String orderId) throws SQLException {
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (id) VALUES (?)")) {
          ps.setString(1, orderId);
          ps.executeUpdate();
        }
        client.inTransaction(c).enqueue(SEND_RECEIPT, new Receipt(orderId));
        c.commit(); // the row and the task appear together; a waiting worker starts it at once
      } catch (SQLException | RuntimeException e) {
        c.rollback(); // neither the row nor the task
        throw e;
      }
    }
  }
  // readme:end
}
