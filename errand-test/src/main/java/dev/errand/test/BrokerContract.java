package dev.errand.test;

import static dev.errand.test.ContractSupport.LEASE;
import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.claimOne;
import static dev.errand.test.ContractSupport.delayed;
import static dev.errand.test.ContractSupport.drainOneByOne;
import static dev.errand.test.ContractSupport.keyed;
import static dev.errand.test.ContractSupport.label;
import static dev.errand.test.ContractSupport.labels;
import static dev.errand.test.ContractSupport.message;
import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Delivery, order, delays, idempotency keys and inspection of the broker. */
interface BrokerContract extends ContractFixture {

  @Test
  default void deliversAndAcks() throws Exception {
    Broker broker = backend().broker();
    NewMessage sent = message("mail", 7, "hello");
    assertThat(broker.enqueue(List.of(sent))).containsExactly(new EnqueueResult(sent.id(), false));

    Delivery d = claimOne(broker, "mail");
    assertThat(d.id()).isEqualTo(sent.id());
    assertThat(d.queue()).isEqualTo("mail");
    assertThat(d.priority()).isEqualTo(7);
    assertThat(label(d)).isEqualTo("hello");
    assertThat(d.deliveries()).isEqualTo(1);
    assertThat(d.receipt()).isNotBlank();
    assertThat(d.leaseExpiresAt()).isEqualTo(clock().instant().plus(LEASE));

    assertThat(broker.ack(d)).isTrue();
    assertThat(claimNow(broker, "mail", 10)).isEmpty();
    QueueStats stats = broker.stats("mail");
    assertThat(List.of(stats.ready(), stats.leased(), stats.delayed())).containsOnly(0L);
  }

  @Test
  default void bodyIsStoredByteForByte() throws Exception {
    Broker broker = backend().broker();
    byte[] body = {0, 1, -1, -128, 127, '"', '\\', '\n', (byte) 0xC3, (byte) 0x28};
    broker.enqueue(
        List.of(new NewMessage(ContractSupport.newId(), "q", 5, body, null, null, null)));

    assertThat(claimOne(broker, "q").body()).containsExactly(body);
  }

  @Test
  default void enqueueReturnsOneResultPerMessageInOrder() throws Exception {
    Broker broker = backend().broker();
    List<NewMessage> batch = List.of(message("q", "a"), message("q", "b"), message("q", "c"));

    List<EnqueueResult> results = broker.enqueue(batch);

    assertThat(results).extracting(EnqueueResult::id).containsExactlyElementsOf(ids(batch));
    assertThat(results).extracting(EnqueueResult::duplicate).containsOnly(false);
    assertThat(drainOneByOne(broker, "q")).containsExactly("a", "b", "c");
  }

  @Test
  default void ackedMessageIsNeverRedelivered() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "once")));
    assertThat(broker.ack(claimOne(broker, "q"))).isTrue();

    clock().advance(LEASE.multipliedBy(3));

    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(broker.stats("q").leased()).isZero();
  }

  @Test
  default void claimTakesOnlyFromTheNamedQueues() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("a", "for-a")));

    assertThat(claimNow(broker, "b", 10)).isEmpty();
    assertThat(labels(claimNow(broker, "a", 10))).containsExactly("for-a");
  }

  @Test
  default void delayedMessageIsNotDeliveredBeforeItsTime() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(delayed("q", "later", clock().instant().plusSeconds(10))));

    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(broker.stats("q").delayed()).isEqualTo(1);
    clock().advance(Duration.ofSeconds(9));
    assertThat(claimNow(broker, "q", 10)).isEmpty();

    clock().advance(Duration.ofSeconds(1));
    assertThat(label(claimOne(broker, "q"))).isEqualTo("later");
  }

  @Test
  default void messageDueInThePastIsDeliveredAtOnce() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(delayed("q", "overdue", clock().instant().minusSeconds(3600))));

    assertThat(label(claimOne(broker, "q"))).isEqualTo("overdue");
  }

  @Test
  default void higherPriorityFirst() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(
        List.of(
            message("q", 0, "p0"),
            message("q", 9, "p9-first"),
            message("q", 5, "p5"),
            message("q", 9, "p9-second"),
            message("q", 1, "p1")));

    assertThat(drainOneByOne(broker, "q"))
        .containsExactly("p9-first", "p9-second", "p5", "p1", "p0");
  }

  @Test
  default void fifoWithinPriority() throws Exception {
    Broker broker = backend().broker();
    List<String> expected = new ArrayList<>();
    List<NewMessage> batch = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String label = String.format("m%02d", i);
      expected.add(label);
      if (i < 20) {
        broker.enqueue(List.of(message("q", label))); // one call each, same instant
      } else {
        batch.add(message("q", label));
      }
    }
    broker.enqueue(batch);
    clock().advance(Duration.ofSeconds(1));
    broker.enqueue(List.of(message("q", "m40")));
    expected.add("m40");

    assertThat(drainOneByOne(broker, "q")).containsExactlyElementsOf(expected);
  }

  @Test
  default void earlierQueuesFirst() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("first", 0, "low-in-first"), message("second", 9, "high")));

    List<Delivery> one = broker.claim(List.of("first", "second"), 1, LEASE, Duration.ZERO);
    assertThat(labels(one)).containsExactly("low-in-first");

    broker.enqueue(List.of(message("first", 0, "x-in-first")));
    List<Delivery> both = broker.claim(List.of("second", "first"), 2, LEASE, Duration.ZERO);
    assertThat(labels(both)).containsExactly("high", "x-in-first");
  }

  @Test
  default void claimsUpToMaxInOneCall() throws Exception {
    Broker broker = backend().broker();
    for (String label : List.of("m0", "m1", "m2", "m3", "m4")) {
      broker.enqueue(List.of(message("q", label)));
    }

    assertThat(labels(claimNow(broker, "q", 3))).containsExactly("m0", "m1", "m2");
    assertThat(labels(claimNow(broker, "q", 3))).containsExactly("m3", "m4");
    assertThat(claimNow(broker, "q", 3)).isEmpty();

    broker.enqueue(List.of(message("a", "a0"), message("a", "a1"), message("b", "b0")));
    List<Delivery> across = broker.claim(List.of("a", "b"), 3, LEASE, Duration.ZERO);
    assertThat(labels(across)).containsExactly("a0", "a1", "b0");
    assertThat(across).extracting(Delivery::receipt).doesNotHaveDuplicates();
  }

  @Test
  default void idempotencyKeyReturnsFirstIdWithinWindow() throws Exception {
    Broker broker = backend().broker();
    Duration window = Duration.ofHours(1);
    NewMessage first = keyed("q", "first", "order-42", window);
    assertThat(broker.enqueue(List.of(first)))
        .containsExactly(new EnqueueResult(first.id(), false));

    clock().advance(Duration.ofMinutes(59));
    NewMessage again = keyed("q", "again", "order-42", window);
    NewMessage inBatch = keyed("q", "in-batch", "order-42", window);
    NewMessage other = keyed("q", "other-key", "order-43", window);

    assertThat(broker.enqueue(List.of(again, inBatch, other)))
        .containsExactly(
            new EnqueueResult(first.id(), true),
            new EnqueueResult(first.id(), true),
            new EnqueueResult(other.id(), false));
    assertThat(drainOneByOne(broker, "q")).containsExactly("first", "other-key");
  }

  @Test
  default void duplicateKeyWithinOneBatchIsEnqueuedOnce() throws Exception {
    Broker broker = backend().broker();
    NewMessage a = keyed("q", "a", "k", Duration.ofMinutes(5));
    NewMessage b = keyed("q", "b", "k", Duration.ofMinutes(5));

    assertThat(broker.enqueue(List.of(a, b)))
        .containsExactly(new EnqueueResult(a.id(), false), new EnqueueResult(a.id(), true));
    assertThat(drainOneByOne(broker, "q")).containsExactly("a");
  }

  @Test
  default void enqueuesAgainAfterWindow() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(keyed("q", "first", "nightly", Duration.ofHours(1))));

    clock().advance(Duration.ofHours(1).plusSeconds(1));
    NewMessage later = keyed("q", "later", "nightly", Duration.ofHours(1));

    assertThat(broker.enqueue(List.of(later)))
        .containsExactly(new EnqueueResult(later.id(), false));
    assertThat(drainOneByOne(broker, "q")).containsExactly("first", "later");
  }

  @Test
  default void statsCountReadyLeasedDelayedAndPriorities() throws Exception {
    Broker broker = backend().broker();
    Instant start = clock().instant();
    broker.enqueue(List.of(message("q", 9, "a")));
    clock().advance(Duration.ofSeconds(1));
    broker.enqueue(
        List.of(
            message("q", 9, "b"),
            message("q", 0, "c"),
            delayed("q", "d", start.plus(Duration.ofHours(1)))));
    Delivery a = claimOne(broker, "q");

    assertThat(broker.stats("q"))
        .isEqualTo(
            new QueueStats("q", 2, 1, 1, Map.of(9, 1L, 0, 1L), start.plusSeconds(1), false, 0));

    broker.ack(a);
    clock().advance(Duration.ofHours(1));
    assertThat(broker.stats("q"))
        .isEqualTo(
            new QueueStats(
                "q", 3, 0, 0, Map.of(9, 1L, 5, 1L, 0, 1L), start.plusSeconds(1), false, 0));
    assertThat(broker.stats("never-used"))
        .isEqualTo(new QueueStats("never-used", 0, 0, 0, Map.of(), null, false, 0));
  }

  @Test
  default void queuesListsQueuesThatHoldMessages() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(
        List.of(message("reports", "r"), delayed("mail", "m", clock().instant().plusSeconds(60))));

    assertThat(broker.queues()).contains("reports", "mail").doesNotContain("never-used");
  }

  @Test
  default void purgeDeletesReadyAndDelayedNotLeased() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(
        List.of(
            message("q", "leased"),
            message("q", "ready-1"),
            message("q", "ready-2"),
            delayed("q", "delayed", clock().instant().plusSeconds(60)),
            message("other", "untouched")));
    Delivery leased = claimOne(broker, "q");

    assertThat(broker.purge("q")).isEqualTo(3);

    QueueStats stats = broker.stats("q");
    assertThat(List.of(stats.ready(), stats.delayed(), stats.leased())).containsExactly(0L, 0L, 1L);
    assertThat(broker.stats("other").ready()).isEqualTo(1);
    assertThat(broker.ack(leased)).isTrue();
    clock().advance(Duration.ofMinutes(5));
    assertThat(claimNow(broker, "q", 10)).isEmpty();
    assertThat(broker.purge("never-used")).isZero();
  }

  private static List<String> ids(List<NewMessage> messages) {
    return messages.stream().map(NewMessage::id).toList();
  }
}
