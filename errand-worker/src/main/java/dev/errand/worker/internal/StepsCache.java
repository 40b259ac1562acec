package dev.errand.worker.internal;

import dev.errand.spi.WorkflowStore;
import dev.errand.wire.Flow;
import dev.errand.wire.Wire;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stored steps of long chains ({@link WorkflowStore#putSteps}), read once per worker and kept:
 * they never change, so each step of a chain costs one map lookup, not a backend read or the
 * decoding of the rest of the chain. Holds the {@value #CAPACITY} chains used last. Thread-safe.
 */
final class StepsCache {

  /** How many chains' steps are kept: {@value}. */
  static final int CAPACITY = 256;

  private final WorkflowStore store;
  private final Map<String, List<Flow.Step>> cache =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, List<Flow.Step>> eldest) {
          return size() > CAPACITY;
        }
      };

  StepsCache(WorkflowStore store) {
    this.store = store;
  }

  /**
   * The steps that follow a task with flow {@code f}: its own list, or the stored one from its
   * reference on.
   *
   * @throws IllegalStateException if the stored steps are gone (expired)
   */
  Flow.Rest rest(Flow f) {
    if (f.stored() == null) {
      return Flow.Rest.inline(f.next());
    }
    String id = f.stored().steps();
    List<Flow.Step> all = steps(id);
    int at = Math.min(f.stored().at(), all.size());
    return new Flow.Rest(all.subList(at, all.size()), id, at);
  }

  private List<Flow.Step> steps(String id) {
    synchronized (cache) {
      List<Flow.Step> known = cache.get(id);
      if (known != null) {
        return known;
      }
    }
    // Read outside the lock: another thread may read the same steps meanwhile, which is harmless.
    byte[] encoded =
        store
            .steps(id)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "the stored steps "
                            + id
                            + " of this task's chain are gone (expired?): the chain stops here"));
    List<Flow.Step> steps = List.copyOf(Wire.decodeSteps(encoded));
    synchronized (cache) {
      cache.put(id, steps);
    }
    return steps;
  }
}
