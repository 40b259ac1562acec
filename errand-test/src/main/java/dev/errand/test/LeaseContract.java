package dev.errand.test;

import static dev.errand.test.ContractSupport.LEASE;
import static dev.errand.test.ContractSupport.bytes;
import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.claimOne;
import static dev.errand.test.ContractSupport.drainOneByOne;
import static dev.errand.test.ContractSupport.label;
import static dev.errand.test.ContractSupport.message;
import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.QueueStats;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Leases, receipts, renewal, release and retry. */
interface LeaseContract extends ContractFixture {

  @Test
  default void redeliversAfterLeaseExpires() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "job")));
    Delivery first = claimOne(broker, "q");

    clock().advance(LEASE.minusSeconds(1));
    assertThat(claimNow(broker, "q", 1)).as("still leased").isEmpty();

    clock().advance(Duration.ofSeconds(2));
    Delivery second = claimOne(broker, "q");
    assertThat(second.id()).isEqualTo(first.id());
    assertThat(label(second)).isEqualTo("job");
    assertThat(second.deliveries()).isEqualTo(2);
    assertThat(second.receipt()).isNotEqualTo(first.receipt());
    assertThat(second.leaseExpiresAt()).isEqualTo(clock().instant().plus(LEASE));

    clock().advance(LEASE.plusSeconds(1));
    assertThat(claimOne(broker, "q").deliveries()).isEqualTo(3);
  }

  @Test
  default void expiredMessageGoesBackToItsOriginalPosition() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "a"), message("q", "b")));
    assertThat(label(claimOne(broker, "q"))).isEqualTo("a");

    clock().advance(LEASE.plusSeconds(1));

    assertThat(drainOneByOne(broker, "q")).containsExactly("a", "b");
  }

  @Test
  default void renewedLeaseIsNotRedelivered() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "long-task")));
    Delivery d = claimOne(broker, "q");

    clock().advance(Duration.ofSeconds(20));
    assertThat(broker.renew(List.of(d), LEASE)).isEmpty();
    clock().advance(Duration.ofSeconds(20)); // past the first lease, within the renewed one

    assertThat(claimNow(broker, "q", 1)).isEmpty();
    assertThat(broker.stats("q").leased()).isEqualTo(1);
    clock().advance(Duration.ofSeconds(11)); // past the renewed lease
    assertThat(claimOne(broker, "q").deliveries()).isEqualTo(2);
  }

  @Test
  default void staleReceiptCannotAckRenewReleaseOrRetry() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "job"), message("other", "held")));
    Delivery stale = claimOne(broker, "q");
    clock().advance(LEASE.plusSeconds(1));
    Delivery current = claimOne(broker, "q");
    Delivery held = claimOne(broker, "other");

    assertThat(broker.ack(stale)).isFalse();
    assertThat(broker.renew(List.of(stale, held), LEASE)).containsExactly(stale.id());
    assertThat(broker.release(stale)).isFalse();
    assertThat(broker.retry(stale, bytes("changed"), clock().instant())).isFalse();

    // Nothing changed: the current lease stands, then expires with body and count intact.
    assertThat(claimNow(broker, "q", 1)).isEmpty();
    assertThat(broker.stats("q")).extracting(QueueStats::leased).isEqualTo(1L);
    clock().advance(LEASE.plusSeconds(1));
    Delivery third = claimOne(broker, "q");
    assertThat(label(third)).isEqualTo("job");
    assertThat(third.deliveries()).isEqualTo(current.deliveries() + 1).isEqualTo(3);
    assertThat(broker.ack(third)).isTrue();
  }

  @Test
  default void endedLeaseCannotBeEndedAgain() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "job")));
    Delivery d = claimOne(broker, "q");

    assertThat(broker.ack(d)).isTrue();

    assertThat(broker.ack(d)).isFalse();
    assertThat(broker.release(d)).isFalse();
    assertThat(broker.retry(d, bytes("again"), clock().instant())).isFalse();
    assertThat(broker.renew(List.of(d), LEASE)).containsExactly(d.id());
    assertThat(claimNow(broker, "q", 1)).isEmpty();
  }

  @Test
  default void releaseReturnsMessageAtOnceToTheFront() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "a"), message("q", "b")));
    Delivery a = claimOne(broker, "q");

    assertThat(broker.release(a)).isTrue();

    assertThat(broker.stats("q"))
        .extracting(QueueStats::ready, QueueStats::leased)
        .containsExactly(2L, 0L);
    Delivery again = claimOne(broker, "q");
    assertThat(label(again)).isEqualTo("a");
    assertThat(again.deliveries()).as("a released delivery does not count").isEqualTo(1);
    assertThat(again.receipt()).isNotEqualTo(a.receipt());
    assertThat(broker.ack(a)).as("the released receipt is stale").isFalse();
  }

  @Test
  default void releaseTakesBackOnlyItsOwnDelivery() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "job")));
    claimOne(broker, "q");
    clock().advance(LEASE.plusSeconds(1));
    Delivery second = claimOne(broker, "q");

    assertThat(broker.release(second)).isTrue();

    assertThat(claimOne(broker, "q").deliveries()).isEqualTo(2);
  }

  @Test
  default void retryReplacesBodyAndDelays() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", 8, "attempt-1")));
    claimOne(broker, "q");
    clock().advance(LEASE.plusSeconds(1));
    Delivery d = claimOne(broker, "q");
    assertThat(d.deliveries()).isEqualTo(2);

    assertThat(broker.retry(d, bytes("attempt-2"), clock().instant().plusSeconds(10))).isTrue();

    assertThat(claimNow(broker, "q", 1)).isEmpty();
    assertThat(broker.stats("q"))
        .extracting(QueueStats::ready, QueueStats::leased, QueueStats::delayed)
        .containsExactly(0L, 0L, 1L);
    clock().advance(Duration.ofSeconds(9));
    assertThat(claimNow(broker, "q", 1)).isEmpty();
    clock().advance(Duration.ofSeconds(1));
    Delivery retried = claimOne(broker, "q");
    assertThat(retried.id()).isEqualTo(d.id());
    assertThat(retried.priority()).isEqualTo(8);
    assertThat(label(retried)).isEqualTo("attempt-2");
    assertThat(retried.deliveries()).as("reset by retry").isEqualTo(1);
    assertThat(broker.ack(d)).isFalse();
    assertThat(broker.ack(retried)).isTrue();
  }

  @Test
  default void retryDueNowIsReadyAtOnce() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "attempt-1")));
    Delivery d = claimOne(broker, "q");

    assertThat(broker.retry(d, bytes("attempt-2"), clock().instant().minusSeconds(1))).isTrue();

    assertThat(label(claimOne(broker, "q"))).isEqualTo("attempt-2");
  }
}
