package dev.errand.worker.internal;

import dev.errand.Event;
import dev.errand.spi.EventStore;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a worker's events go. Events are observability only: a failure to publish is logged and
 * never fails a task.
 */
public abstract class EventSink {

  private static final Logger log = LoggerFactory.getLogger(EventSink.class);

  /** Records an event. */
  public abstract void emit(Event event);

  /** Publishes buffered events now. */
  public abstract void flush();

  /** A sink that publishes each event at once (eager mode). */
  public static EventSink direct(EventStore store) {
    return new EventSink() {
      @Override
      public void emit(Event event) {
        try {
          store.publish(List.of(event));
        } catch (RuntimeException e) {
          log.warn("could not publish event {}: {}", event.type().wireName(), e.toString());
        }
      }

      @Override
      public void flush() {}
    };
  }

  /**
   * A sink that buffers events and publishes them in batches on {@link #flush()}, dropping the
   * oldest past {@code capacity} while the store is unreachable.
   */
  public static EventSink buffered(EventStore store, int capacity) {
    return new Buffered(store, capacity);
  }

  private static final class Buffered extends EventSink {
    private final EventStore store;
    private final int capacity;
    private final Object lock = new Object();
    private List<Event> buffer = new ArrayList<>();
    private long dropped;

    Buffered(EventStore store, int capacity) {
      this.store = store;
      this.capacity = capacity;
    }

    @Override
    public void emit(Event event) {
      synchronized (lock) {
        if (buffer.size() >= capacity) {
          buffer.remove(0);
          dropped++;
        }
        buffer.add(event);
      }
    }

    @Override
    public void flush() {
      List<Event> batch;
      long lost;
      synchronized (lock) {
        if (buffer.isEmpty()) {
          return;
        }
        batch = buffer;
        buffer = new ArrayList<>();
        lost = dropped;
        dropped = 0;
      }
      if (lost > 0) {
        log.warn("dropped {} events while the event store was unreachable", lost);
      }
      try {
        store.publish(batch);
      } catch (RuntimeException e) {
        log.warn("could not publish {} events: {}", batch.size(), e.toString());
        synchronized (lock) {
          // Put them back in front, within capacity: newer events win.
          List<Event> merged = new ArrayList<>(batch);
          merged.addAll(buffer);
          int excess = merged.size() - capacity;
          buffer = excess > 0 ? new ArrayList<>(merged.subList(excess, merged.size())) : merged;
          dropped += Math.max(0, excess);
        }
      }
    }
  }
}
