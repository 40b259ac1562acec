package dev.errand.worker.internal;

import dev.errand.spi.Delivery;
import dev.errand.worker.QueueOrder;
import dev.errand.worker.WorkerOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The order of the worker's queues for each claim, per {@link WorkerOptions#queueOrder()}. The
 * broker takes from the first queue of the list until it runs dry, then from the next, so the order
 * decides who is served:
 *
 * <ul>
 *   <li>round-robin: a queue that gave messages goes to the back of the list, as kombu rotates
 *       Celery's queues on Redis. A queue with nothing ready (empty, paused, or waiting on a limit)
 *       costs the others nothing: its turn passes to the next in line, not always to the same one;
 *   <li>weighted: the queue owed most by its weight goes first (the "smooth weighted round-robin"
 *       of nginx, so no queue goes first many times in a row), the others by what they are owed;
 *   <li>strict: always the order given.
 * </ul>
 *
 * Used by the fetch thread only; not thread-safe.
 */
final class QueueRotation {

  private final QueueOrder order;
  private final List<String> given;
  private final List<String> rotating;
  private List<String> current;
  private final String[] names;
  private final int[] weights;
  private final int totalWeight;
  private final long[] owed;

  QueueRotation(WorkerOptions options) {
    this.order = options.queueOrder();
    this.given = List.copyOf(options.queues());
    this.rotating = new ArrayList<>(given);
    this.current = given;
    this.names = given.toArray(String[]::new);
    this.weights = new int[names.length];
    int total = 0;
    for (int i = 0; i < names.length; i++) {
      weights[i] = options.queueWeights().get(names[i]);
      total += weights[i];
    }
    this.totalWeight = total;
    this.owed = new long[names.length];
  }

  /** The queues in the order for the next claim. */
  List<String> next() {
    if (names.length == 1 || order == QueueOrder.STRICT) {
      return given;
    }
    if (order == QueueOrder.ROUND_ROBIN) {
      return current;
    }
    int best = 0;
    for (int i = 0; i < names.length; i++) {
      owed[i] += weights[i];
      if (owed[i] > owed[best]) {
        best = i;
      }
    }
    owed[best] -= totalWeight;
    Integer[] byOwed = new Integer[names.length];
    for (int i = 0; i < names.length; i++) {
      byOwed[i] = i;
    }
    final int first = best;
    Arrays.sort(
        byOwed,
        Comparator.comparingInt((Integer i) -> i == first ? 0 : 1)
            .thenComparingLong(i -> -owed[i])
            .thenComparingInt(i -> i));
    List<String> out = new ArrayList<>(names.length);
    for (int i : byOwed) {
      out.add(names[i]);
    }
    return out;
  }

  /** A claim took {@code claimed}: with round-robin, the queues that gave go to the back. */
  void served(List<Delivery> claimed) {
    if (order != QueueOrder.ROUND_ROBIN || names.length == 1 || claimed.isEmpty()) {
      return;
    }
    Set<String> gave = new LinkedHashSet<>();
    for (Delivery d : claimed) {
      gave.add(d.queue());
    }
    for (String q : gave) {
      if (rotating.remove(q)) {
        rotating.add(q);
      }
    }
    current = List.copyOf(rotating);
  }
}
