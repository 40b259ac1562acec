package dev.errand.memory;

import dev.errand.Event;
import dev.errand.spi.EventStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The in-memory {@link EventStore}: a ring of fixed capacity; publishing into a full ring drops the
 * oldest event. Sequence numbers start at 1 and never repeat. Thread-safe.
 */
final class MemoryEventStore implements EventStore {

  private final Event[] ring;
  private long nextSeq = 1;

  MemoryEventStore(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("eventCapacity must be > 0 but was " + capacity);
    }
    ring = new Event[capacity];
  }

  @Override
  public synchronized void publish(List<Event> events) {
    Objects.requireNonNull(events, "events");
    for (Event e : events) {
      Objects.requireNonNull(e, "events must not contain null");
    }
    for (Event e : events) {
      long seq = nextSeq++;
      ring[slot(seq)] = e.withSeq(seq);
    }
  }

  @Override
  public synchronized List<Event> read(long afterSeq, int limit) {
    requireLimit(limit);
    long from = Math.max(Math.max(afterSeq, 0) + 1, oldestSeq());
    List<Event> out = new ArrayList<>((int) Math.min(limit, Math.max(0, nextSeq - from)));
    for (long seq = from; seq < nextSeq && out.size() < limit; seq++) {
      out.add(ring[slot(seq)]);
    }
    return out;
  }

  @Override
  public synchronized List<Event> latest(int limit) {
    requireLimit(limit);
    long oldest = oldestSeq();
    List<Event> out = new ArrayList<>((int) Math.min(limit, nextSeq - oldest));
    for (long seq = nextSeq - 1; seq >= oldest && out.size() < limit; seq--) {
      out.add(ring[slot(seq)]);
    }
    return out;
  }

  int capacity() {
    return ring.length;
  }

  private long oldestSeq() {
    return Math.max(1, nextSeq - ring.length);
  }

  private int slot(long seq) {
    return (int) ((seq - 1) % ring.length);
  }

  private static void requireLimit(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0 but was " + limit);
    }
  }
}
