package dev.errand.postgres.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cross-process wake-ups by PostgreSQL's {@code LISTEN/NOTIFY}: a writer calls {@code pg_notify}
 * inside its transaction (delivered only if, and when, it commits), and one thread per backend,
 * started on first use, listens on a dedicated connection and hands each payload to the handlers of
 * its channel. A waiting claim or result therefore wakes within a round trip of the commit, with no
 * polling loop.
 *
 * <p>Notifications are not durable, and reach only a connection that already listens: those sent
 * before {@code LISTEN} took effect, or while the listening connection was down (the server
 * restarted), are lost. So once a channel's {@code LISTEN} is in effect (first, and after every
 * reconnect) every handler is called with a null payload, meaning "look again, something may have
 * been missed". Handlers run on the listener thread and must be quick. Thread-safe.
 */
public final class PgNotifier implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PgNotifier.class);

  /** Channel kinds. */
  public static final String MESSAGES = "q";

  /** Channel kind for ready results. */
  public static final String RESULTS = "r";

  /** How long the listener blocks for notifications before it looks for new channels, in ms. */
  private static final int POLL_MS = 100;

  private static final long RECONNECT_MAX_MS = 2_000;

  private final Supplier<Connection> connect;
  private final String schema;
  private final Map<String, List<Consumer<String>>> handlers = new ConcurrentHashMap<>();
  private Thread thread; // guarded by this
  private volatile boolean closed;

  /**
   * @param connect opens a new connection, not from the pool (it is held for as long as anything
   *     listens); throws a RuntimeException when it cannot
   * @param schema the backend's schema, which names the channels
   */
  public PgNotifier(Supplier<Connection> connect, String schema) {
    this.connect = connect;
    this.schema = schema;
  }

  /**
   * The channel of {@code kind} for this backend's schema: {@code errand_<kind>_<schema>}, or a
   * hash of the schema where that would be longer than PostgreSQL's 63 characters.
   */
  public String channel(String kind) {
    String name = "errand_" + kind + "_" + schema;
    if (name.length() <= 63) {
      return name;
    }
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(schema.getBytes(StandardCharsets.UTF_8));
      return "errand_" + kind + "_" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * SQL that notifies {@code kind}'s channel with the payload bound to its one parameter, for use
   * inside a writer's transaction: {@code SELECT pg_notify('errand_q_errand', ?)}.
   */
  public String notifySql(String kind) {
    return "SELECT pg_notify('" + channel(kind) + "', ?)";
  }

  /**
   * Calls {@code handler} with the payload of every notification on {@code kind}'s channel (and
   * with null after a reconnect), from now on; starts the listener thread on first use.
   */
  public void listen(String kind, Consumer<String> handler) {
    handlers.computeIfAbsent(channel(kind), c -> new CopyOnWriteArrayList<>()).add(handler);
    start();
  }

  private synchronized void start() {
    if (closed || (thread != null && thread.isAlive())) {
      return;
    }
    thread = new Thread(this::run, "errand-pg-listen-" + schema);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    long backoff = 50;
    boolean first = true;
    while (!closed) {
      Connection c = null;
      try {
        c = connect.get();
        if (!first) {
          log.info("listening for wake-ups again on {}", schema);
        }
        first = false;
        backoff = 50;
        PGConnection pgc = c.unwrap(PGConnection.class);
        Set<String> listened = new HashSet<>();
        while (!closed) {
          listenToNew(c, listened);
          PGNotification[] got = pgc.getNotifications(POLL_MS);
          if (got == null) {
            continue;
          }
          for (PGNotification n : got) {
            List<Consumer<String>> hs = handlers.get(n.getName());
            if (hs != null) {
              for (Consumer<String> h : hs) {
                call(h, n.getParameter());
              }
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          break;
        }
        log.warn(
            "listening for wake-ups on schema {} failed, again in {} ms (claims and waits fall back"
                + " to polling meanwhile): {}",
            schema,
            backoff,
            e.toString());
        sleep(backoff);
        backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
      } finally {
        if (c != null) {
          try {
            c.close();
          } catch (SQLException ignored) {
            // it is being dropped
          }
        }
      }
    }
  }

  /**
   * Runs {@code LISTEN} for the channels not yet listened to on this connection, then calls every
   * handler with null: a notification sent before {@code LISTEN} took effect (before the first, or
   * while the connection was down) was not delivered, so whoever waits looks again once.
   */
  private void listenToNew(Connection c, Set<String> listened) throws SQLException {
    boolean added = false;
    try (Statement s = c.createStatement()) {
      for (String channel : handlers.keySet()) {
        if (listened.add(channel)) {
          s.execute("LISTEN \"" + channel + "\"");
          added = true;
        }
      }
    }
    if (added) {
      everyone(null);
    }
  }

  private void everyone(String payload) {
    for (List<Consumer<String>> hs : handlers.values()) {
      for (Consumer<String> h : hs) {
        call(h, payload);
      }
    }
  }

  private static void call(Consumer<String> h, String payload) {
    try {
      h.accept(payload);
    } catch (RuntimeException e) {
      log.warn("a wake-up handler failed: {}", e.toString());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
