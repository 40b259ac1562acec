package dev.errand.test;

import static dev.errand.test.ContractSupport.LEASE;
import static dev.errand.test.ContractSupport.LONG_WAIT;
import static dev.errand.test.ContractSupport.PATIENCE;
import static dev.errand.test.ContractSupport.bytes;
import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.delayed;
import static dev.errand.test.ContractSupport.labels;
import static dev.errand.test.ContractSupport.message;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Flow control in the broker: paused queues. */
interface FlowControlContract extends ContractFixture {

  @Test
  default void aPausedQueueGivesNothingWhileAnotherIsDrainedAndKeepsTakingEnqueues()
      throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("a", "a1"), message("b", "b1")));
    broker.pause("a");
    broker.pause("a"); // twice changes nothing

    broker.enqueue(List.of(message("a", "a2"), message("b", "b2")));
    assertThat(labels(broker.claim(List.of("a", "b"), 10, LEASE, Duration.ZERO)))
        .containsExactly("b1", "b2");
    assertThat(claimNow(broker, "a", 10)).isEmpty();
    assertThat(broker.pausedQueues()).containsExactly("a");
    assertThat(broker.stats("a").paused()).isTrue();
    assertThat(broker.stats("a").ready()).isEqualTo(2);
    assertThat(broker.stats("b").paused()).isFalse();

    broker.resume("a");
    broker.resume("a");
    assertThat(broker.pausedQueues()).isEmpty();
    assertThat(broker.stats("a").paused()).isFalse();
    assertThat(labels(claimNow(broker, "a", 10))).containsExactly("a1", "a2");
  }

  @Test
  default void whatWasLeasedBeforeThePauseFinishesAndARetryWaitsForTheResume() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("a", "one"), message("a", "two")));
    List<Delivery> leased = claimNow(broker, "a", 2);
    broker.pause("a");

    assertThat(broker.ack(leased.get(0))).isTrue();
    assertThat(broker.retry(leased.get(1), bytes("two"), clock().instant())).isTrue();
    assertThat(claimNow(broker, "a", 10)).isEmpty();
    // a delayed message coming due and a lease running out are not delivered either
    broker.enqueue(List.of(delayed("a", "later", clock().instant().plusSeconds(5))));
    clock().advance(Duration.ofSeconds(10));
    assertThat(claimNow(broker, "a", 10)).isEmpty();

    broker.resume("a");
    assertThat(labels(claimNow(broker, "a", 10))).containsExactlyInAnyOrder("two", "later");
  }

  @Test
  default void aPausedQueueIsListedEvenWhenEmpty() {
    Broker broker = backend().broker();
    broker.pause("quiet");
    assertThat(broker.queues()).contains("quiet");
    assertThat(broker.pausedQueues()).containsExactly("quiet");
  }

  @Test
  default void resumingWakesAClaimWaitingOnThePausedQueue() throws Exception {
    Broker broker = backend().broker();
    broker.pause("a");
    broker.enqueue(List.of(message("a", "held")));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim =
          pool.submit(() -> broker.claim(List.of("a"), 1, LEASE, LONG_WAIT));
      await().during(Duration.ofMillis(300)).atMost(PATIENCE).until(() -> !claim.isDone());

      broker.resume("a");

      assertThat(labels(claim.get(PATIENCE.toMillis(), MILLISECONDS))).containsExactly("held");
    } finally {
      pool.shutdownNow();
    }
  }
}
