package dev.errand.memory;

import dev.errand.DeadLetter;
import dev.errand.spi.DeadLetterStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The in-memory {@link DeadLetterStore}: newest first by {@code failedAt}, then by insertion (the
 * later added first). Adding an id again replaces it and counts as a new insertion. Unbounded: dead
 * letters wait for an operator. Thread-safe.
 */
final class MemoryDeadLetterStore implements DeadLetterStore {

  private record Entry(DeadLetter letter, long seq) {}

  private static final Comparator<Entry> NEWEST_FIRST =
      Comparator.comparing((Entry e) -> e.letter().failedAt())
          .thenComparingLong(Entry::seq)
          .reversed();

  private final Map<String, Entry> byId = new HashMap<>();
  private final NavigableSet<Entry> ordered = new TreeSet<>(NEWEST_FIRST);
  private final Map<String, Long> countByQueue = new HashMap<>();
  private long seq;

  @Override
  public synchronized void add(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    removeEntry(deadLetter.id());
    Entry e = new Entry(deadLetter, ++seq);
    byId.put(deadLetter.id(), e);
    ordered.add(e);
    countByQueue.merge(deadLetter.queue(), 1L, Long::sum);
  }

  @Override
  public synchronized List<DeadLetter> list(String queue, int offset, int limit) {
    if (offset < 0 || limit < 0) {
      throw new IllegalArgumentException(
          "offset and limit must be >= 0 but were " + offset + " and " + limit);
    }
    List<DeadLetter> page = new ArrayList<>(Math.min(limit, 256));
    int skipped = 0;
    for (Entry e : ordered) {
      if (page.size() == limit) {
        break;
      }
      if (queue != null && !queue.equals(e.letter().queue())) {
        continue;
      }
      if (skipped < offset) {
        skipped++;
      } else {
        page.add(e.letter());
      }
    }
    return page;
  }

  @Override
  public synchronized Optional<DeadLetter> get(String id) {
    Objects.requireNonNull(id, "id");
    Entry e = byId.get(id);
    return e == null ? Optional.empty() : Optional.of(e.letter());
  }

  @Override
  public synchronized boolean remove(String id) {
    Objects.requireNonNull(id, "id");
    return removeEntry(id);
  }

  @Override
  public synchronized long count(String queue) {
    return queue == null ? byId.size() : countByQueue.getOrDefault(queue, 0L);
  }

  @Override
  public synchronized Map<String, Long> countByQueue() {
    return new HashMap<>(countByQueue);
  }

  private boolean removeEntry(String id) {
    Entry old = byId.remove(id);
    if (old == null) {
      return false;
    }
    ordered.remove(old);
    countByQueue.computeIfPresent(old.letter().queue(), (q, n) -> n == 1 ? null : n - 1);
    return true;
  }
}
