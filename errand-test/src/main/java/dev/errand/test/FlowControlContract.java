package dev.errand.test;

import static dev.errand.test.ContractSupport.LEASE;
import static dev.errand.test.ContractSupport.LONG_WAIT;
import static dev.errand.test.ContractSupport.PATIENCE;
import static dev.errand.test.ContractSupport.bytes;
import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.claimOne;
import static dev.errand.test.ContractSupport.delayed;
import static dev.errand.test.ContractSupport.label;
import static dev.errand.test.ContractSupport.labels;
import static dev.errand.test.ContractSupport.limited;
import static dev.errand.test.ContractSupport.message;
import static dev.errand.test.ContractSupport.unique;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.LimitStats;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Flow control in the broker: paused queues, rate and concurrency limits per key, unique keys. Time
 * is the test clock's: a rate is checked by moving it, never by waiting.
 */
interface FlowControlContract extends ContractFixture {

  /** Two starts a second, one at a time. */
  FlowLimit TWO_PER_SECOND = new FlowLimit("k", 2, 1000, 1, 0);

  private static FlowLimit concurrency(String key, int n) {
    return new FlowLimit(key, 0, 0, 1, n);
  }

  private void enqueueLimited(Broker broker, FlowLimit limit, String... labels) {
    List<NewMessage> batch = new ArrayList<>();
    for (String l : labels) {
      batch.add(limited("q", l, limit));
    }
    broker.enqueue(batch);
  }

  @Test
  default void aRateLimitLetsMessagesStartNoFasterThanItsRateAndKeepsTheRestWaiting()
      throws Exception {
    Broker broker = backend().broker();
    enqueueLimited(broker, TWO_PER_SECOND, "a", "b", "c", "d");

    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("a");
    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(broker.stats("q").limited()).isEqualTo(3);
    assertThat(broker.stats("q").ready()).isZero();
    clock().advance(Duration.ofMillis(499));
    assertThat(claimNow(broker, "q", 10)).isEmpty();
    clock().advance(Duration.ofMillis(1));
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("b");
    // A quiet spell does not save up starts beyond the burst (1)
    clock().advance(Duration.ofSeconds(10));
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("c");
    assertThat(claimNow(broker, "q", 10)).isEmpty();
  }

  @Test
  default void aBurstLetsThatManyStartAtOnceAfterAQuietSpell() throws Exception {
    Broker broker = backend().broker();
    FlowLimit burst = new FlowLimit("k", 2, 1000, 3, 0);
    enqueueLimited(broker, burst, "a", "b", "c", "d", "e");

    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("a", "b", "c");
    clock().advance(Duration.ofMillis(500));
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("d");
    clock().advance(Duration.ofSeconds(5));
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("e");
  }

  @Test
  default void limitedMessagesNeverHoldUpOthersAndKeysAreIndependent() throws Exception {
    Broker broker = backend().broker();
    enqueueLimited(broker, new FlowLimit("slow", 1, 60_000, 1, 0), "s1", "s2", "s3");
    broker.enqueue(
        List.of(
            message("q", "free1"),
            limited("q", "x1", concurrency("x", 1)),
            limited("q", "x2", concurrency("x", 1)),
            limited("q", "y1", concurrency("y", 1)),
            message("q", "free2")));

    assertThat(labels(claimNow(broker, "q", 20)))
        .containsExactlyInAnyOrder("s1", "x1", "y1", "free1", "free2");
    assertThat(claimNow(broker, "q", 20)).isEmpty();
    assertThat(broker.stats("q").limited()).isEqualTo(3);
  }

  @Test
  default void aConcurrencyLimitLeasesAtMostNAndAnAckARetryOrAReleaseMakesRoom() throws Exception {
    Broker broker = backend().broker();
    FlowLimit two = concurrency("k", 2);
    enqueueLimited(broker, two, "a", "b", "c", "d", "e");

    List<Delivery> first = claimNow(broker, "q", 10);
    assertThat(labels(first)).containsExactly("a", "b");
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    assertThat(broker.ack(first.get(0))).isTrue();
    Delivery c = claimOne(broker, "q");
    assertThat(label(c)).isEqualTo("c");
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    // a retry frees its place and waits, due later, behind nobody: it comes back under the limit
    assertThat(broker.retry(first.get(1), bytes("b again"), clock().instant().plusSeconds(5)))
        .isTrue();
    Delivery d = claimOne(broker, "q");
    assertThat(label(d)).isEqualTo("d");
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    // a release puts the message back in its place among the held ones
    assertThat(broker.release(d)).isTrue();
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("d");

    clock().advance(Duration.ofSeconds(5));
    broker.ack(c);
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("e");
    assertThat(claimNow(broker, "q", 10)).as("d and e run: b again waits").isEmpty();
  }

  @Test
  default void aLeaseThatRunsOutKeepsItsPlaceInTheConcurrency() throws Exception {
    Broker broker = backend().broker();
    enqueueLimited(broker, concurrency("k", 1), "a", "b");
    Delivery a = claimOne(broker, "q");

    clock().advance(LEASE.plusSeconds(1));
    List<Delivery> again = claimNow(broker, "q", 10);
    assertThat(labels(again)).as("a again, not b as well").containsExactly("a");
    assertThat(again.get(0).deliveries()).isEqualTo(2);
    assertThat(broker.ack(a)).as("the old receipt").isFalse();
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    assertThat(broker.ack(again.get(0))).isTrue();
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("b");
  }

  @Test
  default void messagesOfAKeyKeepTheirPriorityAndOrder() throws Exception {
    Broker broker = backend().broker();
    FlowLimit one = concurrency("k", 1);
    broker.enqueue(
        List.of(
            limited("q", 0, "low", one),
            limited("q", 5, "mid1", one),
            limited("q", 9, "high", one),
            limited("q", 5, "mid2", one)));

    List<String> order = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Delivery d = claimOne(broker, "q");
      order.add(label(d));
      broker.ack(d);
    }
    assertThat(order).containsExactly("high", "mid1", "mid2", "low");
  }

  @Test
  default void aDelayedLimitedMessageWaitsForItsTimeThenForItsLimit() throws Exception {
    Broker broker = backend().broker();
    FlowLimit one = concurrency("k", 1);
    broker.enqueue(
        List.of(
            limited("q", "now", one),
            new NewMessage(
                ContractSupport.newId(),
                "q",
                5,
                bytes("later"),
                clock().instant().plusSeconds(10),
                null,
                null,
                one,
                null)));
    Delivery now = claimOne(broker, "q");
    assertThat(label(now)).isEqualTo("now");
    clock().advance(Duration.ofSeconds(11));
    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(broker.stats("q").limited()).isEqualTo(1);
    broker.ack(now);
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("later");
  }

  @Test
  default void purgeDeletesHeldMessagesAndFreesTheirKeys() throws Exception {
    Broker broker = backend().broker();
    FlowLimit one = concurrency("k", 1);
    enqueueLimited(broker, one, "a", "b", "c");
    Delivery a = claimOne(broker, "q");

    assertThat(broker.purge("q")).isEqualTo(2);
    assertThat(broker.stats("q").limited()).isZero();
    broker.ack(a);
    enqueueLimited(broker, one, "d");
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("d");
  }

  @Test
  default void limitsShowEachKeyInUseAndForgetIdleOnes() throws Exception {
    Broker broker = backend().broker();
    FlowLimit rate = new FlowLimit("rated", 2, 1000, 1, 3);
    enqueueLimited(broker, rate, "a", "b", "c");
    Delivery a = claimOne(broker, "q");

    List<LimitStats> stats = broker.limits("q", 10);
    assertThat(stats).hasSize(1);
    LimitStats s = stats.get(0);
    assertThat(s.limit()).isEqualTo(rate);
    assertThat(s.running()).isEqualTo(1);
    assertThat(s.waiting()).isEqualTo(2);
    assertThat(s.nextStartAt()).isEqualTo(clock().instant().plusMillis(500));

    broker.ack(a);
    for (int i = 0; i < 2; i++) {
      clock().advance(Duration.ofSeconds(1));
      broker.ack(claimOne(broker, "q"));
    }
    clock().advance(Duration.ofSeconds(1));
    assertThat(broker.limits("q", 10)).as("idle and recovered").isEmpty();
  }

  @Test
  default void aWaitingClaimIsWokenWhenItsKeyIsDue() throws Exception {
    Broker broker = backend().broker();
    enqueueLimited(broker, TWO_PER_SECOND, "a", "b");
    claimOne(broker, "q");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim =
          pool.submit(() -> broker.claim(List.of("q"), 1, LEASE, LONG_WAIT));
      await().during(Duration.ofMillis(300)).atMost(PATIENCE).until(() -> !claim.isDone());

      clock().advance(Duration.ofMillis(500));

      assertThat(labels(claim.get(PATIENCE.toMillis(), MILLISECONDS))).containsExactly("b");
    } finally {
      pool.shutdownNow();
    }
  }

  private Set<String> settle(Delivery d, Settlement.Ending ending, NewMessage... followUps) {
    return backend()
        .settle(
            List.of(new Settlement(d, ending, null, List.of(), List.of(followUps), null)),
            Duration.ofHours(1));
  }

  @Test
  default void settlementsKeepTheLimitsAsTheBrokerCallsDo() throws Exception {
    Broker broker = backend().broker();
    FlowLimit one = concurrency("k", 1);
    enqueueLimited(broker, one, "a", "b");
    Delivery a = claimOne(broker, "q");
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    // a hand-back puts it back first among the held, freeing its place
    assertThat(settle(a, Settlement.Ending.RELEASE)).isEmpty();
    a = claimOne(broker, "q");
    assertThat(label(a)).isEqualTo("a");
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    // a retry due now waits behind b, under the limit
    assertThat(settle(a, new Settlement.Ending.Retry(bytes("a again"), clock().instant())))
        .isEmpty();
    Delivery b = claimOne(broker, "q");
    assertThat(label(b)).isEqualTo("b");
    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(broker.stats("q").limited()).isEqualTo(1);

    // an ack frees the place; a limited follow-up is held too
    assertThat(settle(b, Settlement.Ending.ACK, limited("q", "next", one))).isEmpty();
    Delivery again = claimOne(broker, "q");
    assertThat(label(again)).isEqualTo("a again");
    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(settle(again, Settlement.Ending.ACK)).isEmpty();
    assertThat(labels(claimNow(broker, "q", 10))).containsExactly("next");
  }

  @Test
  default void aUniqueFollowUpIsDroppedWhileItsKeyIsHeldAndTakenOnceFree() throws Exception {
    Broker broker = backend().broker();
    NewMessage first = unique("q", "backup", "nightly");
    broker.enqueue(List.of(first));
    Delivery d = claimOne(broker, "q");

    // the settlement acks the holder, then enqueues a follow-up with the same key: free by then
    NewMessage next = unique("q", "next backup", "nightly");
    assertThat(settle(d, Settlement.Ending.ACK, next)).isEmpty();
    EnqueueResult dup = broker.enqueue(List.of(unique("q", "third", "nightly"))).get(0);
    assertThat(dup.duplicate()).isTrue();
    assertThat(dup.id()).isEqualTo(next.id());
    Delivery n = claimOne(broker, "q");
    assertThat(label(n)).isEqualTo("next backup");
    assertThat(settle(n, Settlement.Ending.ACK)).isEmpty();
    assertThat(broker.enqueue(List.of(unique("q", "fourth", "nightly"))).get(0).duplicate())
        .isFalse();
  }

  @Test
  default void aUniqueKeyKeepsASecondMessageOutUntilTheFirstIsGone() throws Exception {
    Broker broker = backend().broker();
    NewMessage first = unique("q", "backup", "nightly-backup");
    assertThat(broker.enqueue(List.of(first)).get(0).duplicate()).isFalse();

    EnqueueResult second =
        broker.enqueue(List.of(unique("q", "backup 2", "nightly-backup"))).get(0);
    assertThat(second.duplicate()).isTrue();
    assertThat(second.id()).isEqualTo(first.id());
    assertThat(
            broker
                .enqueue(List.of(unique("other", "elsewhere", "nightly-backup")))
                .get(0)
                .duplicate())
        .as("keys are per queue")
        .isFalse();

    // Held while running and while waiting to retry
    Delivery d = claimOne(broker, "q");
    assertThat(broker.retry(d, bytes("backup"), clock().instant().plusSeconds(5))).isTrue();
    assertThat(broker.enqueue(List.of(unique("q", "x", "nightly-backup"))).get(0).duplicate())
        .isTrue();
    clock().advance(Duration.ofSeconds(5));
    d = claimOne(broker, "q");
    assertThat(broker.enqueue(List.of(unique("q", "x", "nightly-backup"))).get(0).id())
        .isEqualTo(first.id());

    assertThat(broker.ack(d)).isTrue();
    NewMessage third = unique("q", "backup 3", "nightly-backup");
    EnqueueResult after = broker.enqueue(List.of(third)).get(0);
    assertThat(after.duplicate()).isFalse();
    assertThat(after.id()).isEqualTo(third.id());

    assertThat(broker.purge("q")).isEqualTo(1);
    assertThat(
            broker.enqueue(List.of(unique("q", "backup 4", "nightly-backup"))).get(0).duplicate())
        .as("purged: free again")
        .isFalse();
  }

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
