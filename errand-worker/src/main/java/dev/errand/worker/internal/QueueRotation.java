package dev.errand.worker.internal;

import dev.errand.worker.QueueOrder;
import dev.errand.worker.WorkerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The order of the worker's queues for each claim, per {@link WorkerOptions#queueOrder()}. The
 * broker takes from the first queue of the list until it runs dry, so the queue put first is the
 * one served: round-robin puts each first in turn; weighted does so in proportion to the weights,
 * interleaved (the "smooth weighted round-robin" of nginx: no queue is first many times in a row
 * when others are due). Used by the fetch thread only; not thread-safe.
 */
final class QueueRotation {

  private final QueueOrder order;
  private final String[] queues;
  private final int[] weights;
  private final int totalWeight;
  private final long[] current;
  private final List<List<String>> rotations;
  private int turn;

  QueueRotation(WorkerOptions options) {
    this.order = options.queueOrder();
    this.queues = options.queues().toArray(String[]::new);
    this.weights = new int[queues.length];
    int total = 0;
    for (int i = 0; i < queues.length; i++) {
      weights[i] = options.queueWeights().get(queues[i]);
      total += weights[i];
    }
    this.totalWeight = total;
    this.current = new long[queues.length];
    // One immutable list per possible first queue: a claim allocates nothing for its order.
    this.rotations = new ArrayList<>(queues.length);
    for (int first = 0; first < queues.length; first++) {
      List<String> r = new ArrayList<>(queues.length);
      r.add(queues[first]);
      for (int i = 0; i < queues.length; i++) {
        if (i != first) {
          r.add(queues[i]); // the others keep their given order
        }
      }
      rotations.add(List.copyOf(r));
    }
  }

  /** The queues in the order for the next claim. */
  List<String> next() {
    if (queues.length == 1 || order == QueueOrder.STRICT) {
      return rotations.get(0);
    }
    if (order == QueueOrder.ROUND_ROBIN) {
      List<String> r = rotations.get(turn);
      turn = (turn + 1) % queues.length;
      return r;
    }
    int best = 0;
    for (int i = 0; i < queues.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= totalWeight;
    return rotations.get(best);
  }
}
