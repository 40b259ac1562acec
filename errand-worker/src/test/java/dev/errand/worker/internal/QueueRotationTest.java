package dev.errand.worker.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.spi.Delivery;
import dev.errand.worker.QueueOrder;
import dev.errand.worker.WorkerOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class QueueRotationTest {

  private static Delivery from(String queue) {
    return new Delivery("id", queue, 5, new byte[0], 1, "r", Instant.EPOCH);
  }

  @Test
  void roundRobinIsTheDefaultAndSendsAQueueThatGaveToTheBack() {
    QueueRotation r = new QueueRotation(WorkerOptions.builder().queues("a", "b", "c").build());
    assertThat(r.next()).containsExactly("a", "b", "c");
    r.served(List.of(from("a"), from("a")));
    assertThat(r.next()).containsExactly("b", "c", "a");
    r.served(List.of(from("b"), from("c")));
    assertThat(r.next()).containsExactly("a", "b", "c");
    r.served(List.of());
    assertThat(r.next()).as("nothing served, nothing moves").containsExactly("a", "b", "c");
  }

  @Test
  void aQueueWithNothingReadyPassesItsTurnToTheNextInLineNotAlwaysTheSameOne() {
    // "limited" never gives (its messages wait on a limit): the three others share its turns
    QueueRotation r =
        new QueueRotation(WorkerOptions.builder().queues("limited", "x", "y", "z").build());
    Map<String, Integer> served = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      List<String> order = r.next();
      String first = order.stream().filter(q -> !q.equals("limited")).findFirst().orElseThrow();
      served.merge(first, 1, Integer::sum);
      r.served(List.of(from(first)));
    }
    assertThat(served).containsEntry("x", 100).containsEntry("y", 100).containsEntry("z", 100);
  }

  @Test
  void strictAlwaysGivesTheConfiguredOrder() {
    QueueRotation r =
        new QueueRotation(
            WorkerOptions.builder().queues("a", "b", "c").queueOrder(QueueOrder.STRICT).build());
    for (int i = 0; i < 5; i++) {
      assertThat(r.next()).containsExactly("a", "b", "c");
    }
  }

  @Test
  void weightedPutsEachQueueFirstInProportionToItsWeightInterleaved() {
    WorkerOptions o =
        WorkerOptions.builder()
            .queues("critical", "default", "low")
            .queueWeight("critical", 5)
            .queueWeight("default", 2)
            .build();
    assertThat(o.queueOrder()).isEqualTo(QueueOrder.WEIGHTED);
    QueueRotation r = new QueueRotation(o);
    List<String> firsts = new ArrayList<>();
    for (int i = 0; i < 8 * 100; i++) {
      firsts.add(r.next().get(0));
    }
    Map<String, Integer> counts = new TreeMap<>();
    firsts.forEach(q -> counts.merge(q, 1, Integer::sum));
    assertThat(counts).containsEntry("critical", 500).containsEntry("default", 200);
    assertThat(counts).containsEntry("low", 100);
    // smooth: critical is never first more than three claims in a row
    int run = 0;
    for (String q : firsts) {
      run = q.equals("critical") ? run + 1 : 0;
      assertThat(run).isLessThanOrEqualTo(3);
    }
  }

  @Test
  void weightsNeedKnownQueuesAndAWeightedOrder() {
    assertThatThrownBy(() -> WorkerOptions.builder().queues("a").queueWeight("b", 2).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("queue 'b' has a weight");
    assertThatThrownBy(
            () ->
                WorkerOptions.builder()
                    .queues("a", "b")
                    .queueWeight("b", 2)
                    .queueOrder(QueueOrder.STRICT)
                    .build())
        .hasMessageContaining("need queueOrder WEIGHTED");
    assertThatThrownBy(() -> WorkerOptions.builder().queueWeight("a", 0))
        .hasMessageContaining("must be 1-1000 but was 0");
    WorkerOptions o = WorkerOptions.builder().queues("a", "b").queueWeight("b", 3).build();
    assertThat(o.toBuilder().build().queueWeights()).containsEntry("b", 3).containsEntry("a", 1);
  }
}
