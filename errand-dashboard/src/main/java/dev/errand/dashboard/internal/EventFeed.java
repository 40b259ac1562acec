package dev.errand.dashboard.internal;

import dev.errand.Event;
import dev.errand.spi.EventStore;
import dev.errand.wire.Wire;
import io.javalin.http.sse.SseClient;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails the backend's event log on one thread and pushes each new event to every connected
 * server-sent-events client (and to the metrics), so browsers do not poll the backend themselves.
 */
final class EventFeed implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EventFeed.class);
  private static final long POLL_MILLIS = 500;
  private static final int BATCH = 500;

  private final EventStore events;
  private final Metrics metrics;
  private final List<SseClient> clients = new CopyOnWriteArrayList<>();
  private final Thread thread = new Thread(this::run, "errand-dashboard-events");
  private volatile boolean closed;

  EventFeed(EventStore events, Metrics metrics) {
    this.events = events;
    this.metrics = metrics;
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Keeps {@code client} open and sends it every event from now on. */
  void join(SseClient client) {
    client.keepAlive();
    client.onClose(() -> clients.remove(client));
    clients.add(client);
    client.sendComment("connected");
  }

  private void run() {
    long seq = -1;
    while (!closed) {
      try {
        if (seq < 0) {
          List<Event> last = events.latest(1);
          seq = last.isEmpty() ? 0 : last.get(last.size() - 1).seq();
        }
        List<Event> batch = events.read(seq, BATCH);
        for (Event e : batch) {
          seq = Math.max(seq, e.seq());
          metrics.record(e);
          String json = Wire.mapper().writeValueAsString(e);
          for (SseClient c : clients) {
            if (c.terminated()) {
              clients.remove(c);
            } else {
              c.sendEvent(e.type().wireName(), json);
            }
          }
        }
        if (batch.size() < BATCH) {
          Thread.sleep(POLL_MILLIS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.warn("reading the event log failed, trying again: {}", e.toString());
        try {
          Thread.sleep(POLL_MILLIS * 4);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    clients.forEach(SseClient::close);
  }
}
