package dev.errand.test;

import static dev.errand.test.ContractSupport.LEASE;
import static dev.errand.test.ContractSupport.LONG_WAIT;
import static dev.errand.test.ContractSupport.PATIENCE;
import static dev.errand.test.ContractSupport.delayed;
import static dev.errand.test.ContractSupport.labels;
import static dev.errand.test.ContractSupport.message;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Claims that wait, on real threads: woken by enqueue, wakeup, due time; and concurrency. */
interface BlockingClaimContract extends ContractFixture {

  @Test
  default void claimWaitsAndIsWokenByEnqueue() throws Exception {
    Broker broker = backend().broker();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim = pool.submit(() -> waitingClaim(broker, "q"));
      assertStaysBlocked(claim);

      broker.enqueue(List.of(message("q", "late")));

      assertThat(labels(claim.get(PATIENCE.toMillis(), MILLISECONDS))).containsExactly("late");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void wakeupEndsAWait() throws Exception {
    Broker broker = backend().broker();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim = pool.submit(() -> waitingClaim(broker, "q"));
      assertStaysBlocked(claim);

      // Repeated: a wakeup that comes before the claim starts waiting is not required to count.
      await()
          .atMost(PATIENCE)
          .until(
              () -> {
                broker.wakeup();
                return claim.isDone();
              });

      assertThat(claim.get()).isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void waitingClaimReceivesADelayedMessageOnceDue() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(delayed("q", "due-soon", clock().instant().plusSeconds(10))));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim = pool.submit(() -> waitingClaim(broker, "q"));
      assertStaysBlocked(claim);

      clock().advance(Duration.ofSeconds(10));

      assertThat(labels(claim.get(PATIENCE.toMillis(), MILLISECONDS))).containsExactly("due-soon");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void waitingClaimReceivesAMessageWhoseLeaseExpires() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "abandoned")));
    ContractSupport.claimOne(broker, "q");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim = pool.submit(() -> waitingClaim(broker, "q"));
      assertStaysBlocked(claim);

      clock().advance(LEASE.plusSeconds(1));

      List<Delivery> got = claim.get(PATIENCE.toMillis(), MILLISECONDS);
      assertThat(labels(got)).containsExactly("abandoned");
      assertThat(got.get(0).deliveries()).isEqualTo(2);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void interruptingAWaitingClaimThrowsInterruptedException() throws Exception {
    Broker broker = backend().broker();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<List<Delivery>> claim = pool.submit(() -> waitingClaim(broker, "q"));
    assertStaysBlocked(claim);

    pool.shutdownNow(); // interrupts the claiming thread

    assertThatThrownBy(() -> claim.get(PATIENCE.toMillis(), MILLISECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(InterruptedException.class);
  }

  @Test
  default void claimWithoutWaitReturnsAtOnceWhenNothingIsReady() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(delayed("q", "later", clock().instant().plusSeconds(60))));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> claim =
          pool.submit(() -> broker.claim(List.of("q"), 1, LEASE, Duration.ZERO));

      assertThat(claim.get(PATIENCE.toMillis(), MILLISECONDS)).isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  default void concurrentConsumersNeverReceiveTheSameMessageAtOnce() throws Exception {
    Broker broker = backend().broker();
    int producers = 2;
    int perProducer = 1500;
    int consumers = 4;
    int total = producers * perProducer;
    Set<String> sent = ConcurrentHashMap.newKeySet();
    Set<String> inHand = ConcurrentHashMap.newKeySet();
    ConcurrentHashMap<String, Integer> processed = new ConcurrentHashMap<>();
    List<String> violations = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicInteger acked = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(producers + consumers);
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        tasks.add(pool.submit(() -> produce(broker, perProducer, sent)));
      }
      for (int c = 0; c < consumers; c++) {
        tasks.add(
            pool.submit(
                () -> {
                  long deadline = System.nanoTime() + PATIENCE.multipliedBy(3).toNanos();
                  while (acked.get() < total && System.nanoTime() < deadline) {
                    int max = 1 + ThreadLocalRandom.current().nextInt(8);
                    List<Delivery> batch =
                        broker.claim(List.of("q"), max, Duration.ofHours(1), Duration.ofMillis(20));
                    for (Delivery d : batch) {
                      if (!inHand.add(d.id())) {
                        violations.add("held twice at once: " + d.id());
                      }
                      processed.merge(d.id(), 1, Integer::sum);
                    }
                    for (Delivery d : batch) {
                      inHand.remove(d.id());
                      if (!broker.ack(d)) {
                        violations.add("ack refused: " + d.id());
                      }
                      acked.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> t : tasks) {
        t.get(PATIENCE.multipliedBy(4).toMillis(), MILLISECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(violations).isEmpty();
    assertThat(sent).hasSize(total);
    assertThat(processed.keySet()).containsExactlyInAnyOrderElementsOf(sent);
    assertThat(processed.values()).containsOnly(1);
    assertThat(backend().broker().stats("q").ready()).isZero();
  }

  private static Void produce(Broker broker, int count, Set<String> sent) {
    List<NewMessage> batch = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      NewMessage m = message("q", ThreadLocalRandom.current().nextInt(10), "m" + i);
      sent.add(m.id());
      batch.add(m);
      if (batch.size() == 50 || i == count - 1) {
        broker.enqueue(batch);
        batch = new ArrayList<>();
      }
    }
    return null;
  }

  private static List<Delivery> waitingClaim(Broker broker, String queue)
      throws InterruptedException {
    return broker.claim(List.of(queue), 1, LEASE, LONG_WAIT);
  }

  /** Fails unless {@code claim} is still waiting a little while after it started. */
  private static void assertStaysBlocked(Future<?> claim) {
    await().during(Duration.ofMillis(200)).atMost(PATIENCE).until(() -> !claim.isDone());
  }
}
