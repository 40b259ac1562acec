package dev.errand.dashboard.internal;

import dev.errand.Event;
import dev.errand.spi.EventStore;
import io.javalin.http.sse.SseClient;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails the backend's event log on one thread and pushes each new event, masked, to every connected
 * server-sent-events client (and to the metrics), so browsers do not poll the backend themselves.
 * It also tells the clients when the backend stops or starts answering ({@code backend} events),
 * and notices a log that restarted (a Redis that came back empty numbers its events from 1 again),
 * which it then reads from its start, telling the clients so ({@code log-restarted}).
 */
final class EventFeed implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EventFeed.class);
  private static final long POLL_MILLIS = 500;
  private static final int BATCH = 500;

  private final EventStore events;
  private final Metrics metrics;
  private final MaskingJsonMapper json;
  private final Health health;
  private final List<SseClient> clients = new CopyOnWriteArrayList<>();
  private final Thread thread = new Thread(this::run, "errand-dashboard-events");
  private volatile boolean closed;

  EventFeed(EventStore events, Metrics metrics, MaskingJsonMapper json, Health health) {
    this.events = events;
    this.metrics = metrics;
    this.json = json;
    this.health = health;
    thread.setDaemon(true);
    health.onChange(s -> broadcast("backend", backend(s)));
  }

  void start() {
    thread.start();
  }

  /** Keeps {@code client} open and sends it the backend's state and every event from now on. */
  synchronized void join(SseClient client) {
    client.keepAlive();
    client.onClose(() -> clients.remove(client));
    clients.add(client);
    client.sendComment("connected");
    client.sendEvent("backend", backend(health.state()));
  }

  private String backend(Health.State s) {
    return json.tree(s.toJson()).toString();
  }

  private void run() {
    long seq = -1;
    boolean failing = false;
    while (!closed) {
      try {
        if (seq < 0) {
          seq = newest();
        }
        List<Event> batch = events.read(seq, BATCH);
        if (batch.isEmpty() && seq > 0 && newest() < seq) {
          // Numbers went backwards: every event in the log now is new to us.
          log.info(
              "the event log restarted (its newest event is before {}): reading it again", seq);
          seq = 0;
          broadcast("log-restarted", "{}");
          continue;
        }
        for (Event e : batch) {
          seq = Math.max(seq, e.seq());
          metrics.record(e);
          broadcast(e.type().wireName(), json.tree(e).toString());
        }
        if (failing) {
          log.info("reading the event log again");
          failing = false;
        }
        if (batch.size() < BATCH) {
          Thread.sleep(POLL_MILLIS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        if (!failing) { // once per outage, not every two seconds
          log.warn("reading the event log failed, trying again: {}", e.toString());
          failing = true;
        }
        try {
          Thread.sleep(POLL_MILLIS * 4);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /** The newest event's number, 0 for an empty log. */
  private long newest() {
    List<Event> last = events.latest(1);
    return last.isEmpty() ? 0 : last.get(0).seq();
  }

  /** One writer at a time: the health thread and the feed's both send. */
  private synchronized void broadcast(String name, String data) {
    for (SseClient c : clients) {
      if (c.terminated()) {
        clients.remove(c);
      } else {
        c.sendEvent(name, data);
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
