package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.BackendException;
import dev.errand.ChordPolicy;
import dev.errand.DeadLetter;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.Settlement.Ending;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.WorkflowStore.Chord;
import dev.errand.test.TestStatuses;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The settle script beyond the contract, on server time: batches split into several calls,
 * settlements of one batch that meet (one delivery twice, one follow-up id twice, an id acked and
 * sent again, several parts of one chord), idempotency keys of follow-ups, foreign values under a
 * follow-up's queue or the task index, key lifetimes, wake-ups of another process, and a
 * 10,000-member chord settled by three backends at once.
 */
class RedisSettleIT {

  static final Duration TTL = Duration.ofHours(1);
  static final Duration LEASE = Duration.ofSeconds(30);

  String prefix;
  RedisBackend backend;

  @BeforeEach
  void open() {
    prefix = TestRedis.newPrefix();
    backend = RedisBackend.open(url(prefix));
  }

  /** The backend URL with {@code prefix}: the tests' Redis (RedisClusterSettleIT: a cluster). */
  String url(String prefix) {
    return TestRedis.url(prefix, "");
  }

  /** Runs {@code work} with a plain connection to the tests' Redis. */
  void withRedis(
      java.util.function.Consumer<
              io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String>>
          work) {
    TestRedis.withRedis(work::accept);
  }

  /** Deletes the keys under {@code prefix}. */
  void deleteKeys(String prefix) {
    TestRedis.deleteKeys(prefix);
  }

  @AfterEach
  void close() {
    backend.close();
    deleteKeys(prefix);
  }

  static NewMessage message(String id, String queue) {
    return new NewMessage(
        id, queue, 5, ("body-" + id).getBytes(StandardCharsets.UTF_8), null, null, null);
  }

  static NewMessage keyed(String id, String queue, String key) {
    return new NewMessage(
        id,
        queue,
        5,
        ("body-" + id).getBytes(StandardCharsets.UTF_8),
        null,
        key,
        Duration.ofMinutes(5));
  }

  TaskStatus status(String id, TaskState state) {
    return TestStatuses.status(id, "t", state, "q", backend.clock().instant());
  }

  Settlement ack(Delivery d, NewMessage... followUps) {
    return new Settlement(
        d, Ending.ACK, null, List.of(status(d.id(), TaskState.SUCCESS)), List.of(followUps), null);
  }

  List<Delivery> claim(String queue, int max) throws InterruptedException {
    return backend.broker().claim(List.of(queue), max, LEASE, Duration.ZERO);
  }

  long ready(String queue) {
    return backend.broker().stats(queue).ready();
  }

  static String body(Delivery d) {
    return new String(d.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aLargeBatchIsAppliedInSeveralCallsAndItsStaleIdsAreAllReturned() throws Exception {
    Broker broker = backend.broker();
    List<NewMessage> sent = new ArrayList<>();
    for (int i = 0; i < 700; i++) {
      sent.add(message("m" + i, "q" + i % 3));
    }
    broker.enqueue(sent);
    List<Delivery> claimed = new ArrayList<>();
    for (int q = 0; q < 3; q++) {
      claimed.addAll(claim("q" + q, 1000));
    }
    assertThat(claimed).hasSize(700);
    List<String> lost = new ArrayList<>();
    List<Settlement> batch = new ArrayList<>();
    for (int i = 0; i < claimed.size(); i++) {
      Delivery d = claimed.get(i);
      if (i % 100 == 7) { // spread over the calls: its lease is lost
        broker.release(d);
        lost.add(d.id());
      }
      batch.add(ack(d, message("next-" + d.id(), "next")));
    }

    Set<String> stale = backend.settle(batch, TTL);

    assertThat(stale).containsExactlyInAnyOrderElementsOf(lost);
    assertThat(ready("next")).isEqualTo(700 - lost.size());
    List<String> ids = claimed.stream().map(Delivery::id).toList();
    assertThat(backend.results().getAll(ids)).hasSize(700 - lost.size());
    for (int q = 0; q < 3; q++) {
      assertThat(backend.broker().stats("q" + q).leased()).isZero();
    }
  }

  @Test
  void theSameSettlementTwiceInOneBatchIsAppliedOnce() throws Exception {
    backend.broker().enqueue(List.of(message("a", "q")));
    Delivery d = claim("q", 1).get(0);
    Settlement s = ack(d, message("next-a", "next"));

    assertThat(backend.settle(List.of(s, s), TTL)).containsExactly("a");

    assertThat(ready("next")).isEqualTo(1);
    assertThat(backend.results().get("a")).isPresent();
  }

  @Test
  void oneFollowUpFromTwoSettlementsOfABatchIsEnqueuedOnce() throws Exception {
    backend.broker().enqueue(List.of(message("a", "q"), message("b", "q")));
    List<Delivery> ds = claim("q", 2);
    NewMessage next = message("joined", "next");

    assertThat(backend.settle(List.of(ack(ds.get(0), next), ack(ds.get(1), next)), TTL)).isEmpty();

    assertThat(ready("next")).isEqualTo(1);
  }

  @Test
  void anIdAckedAndSentAgainInOneSettlementIsQueuedAgain() throws Exception {
    backend.broker().enqueue(List.of(message("loop", "q")));
    Delivery d = claim("q", 1).get(0);
    NewMessage again =
        new NewMessage(
            "loop", "q", 5, "round-2".getBytes(StandardCharsets.UTF_8), null, null, null);

    assertThat(backend.settle(List.of(ack(d, again)), TTL)).isEmpty();

    Delivery next = claim("q", 1).get(0);
    assertThat(next.id()).isEqualTo("loop");
    assertThat(body(next)).isEqualTo("round-2");
    assertThat(next.deliveries()).isEqualTo(1);
  }

  @Test
  void aFollowUpWhoseIdempotencyKeyIsHeldIsNotEnqueued() throws Exception {
    Broker broker = backend.broker();
    broker.enqueue(List.of(keyed("holder", "next", "k1"), message("a", "q"), message("b", "q")));
    List<Delivery> ds = claim("q", 2);

    Set<String> stale =
        backend.settle(
            List.of(
                ack(ds.get(0), keyed("dup", "next", "k1"), keyed("first", "next", "k2")),
                ack(ds.get(1), keyed("second", "next", "k2"))),
            TTL);

    assertThat(stale).isEmpty();
    List<String> queued = claim("next", 10).stream().map(Delivery::id).toList();
    assertThat(queued).containsExactlyInAnyOrder("holder", "first");
    assertThat(broker.enqueue(List.of(keyed("later", "next", "k2"))).get(0).id())
        .as("the follow-up holds the key it took")
        .isEqualTo("first");
  }

  @Test
  void partsOfOneChordInOneBatchFireItsCallbackOnce() throws Exception {
    String chord = "chord-" + UUID.randomUUID();
    NewMessage callback = message("cb-" + chord, "callbacks");
    backend.workflows().putChord(new Chord(chord, 3, ChordPolicy.FAIL, callback), TTL);
    backend.broker().enqueue(List.of(message("m0", "q"), message("m1", "q"), message("m2", "q")));
    List<Settlement> batch = new ArrayList<>();
    for (Delivery d : claim("q", 3)) {
      int index = Integer.parseInt(d.id().substring(1));
      batch.add(
          new Settlement(
              d,
              Ending.ACK,
              null,
              List.of(status(d.id(), TaskState.SUCCESS)),
              List.of(),
              new ChordPart(chord, index, false)));
    }
    batch.add(batch.get(0)); // and one settled twice: stale, counted once

    assertThat(backend.settle(batch, TTL)).hasSize(1);

    assertThat(ready("callbacks")).isEqualTo(1);
    assertThat(backend.workflows().chord(chord).orElseThrow().finished()).isEqualTo(3);
  }

  @Test
  void followUpsAndAChordCallbackToAShardedQueueLandInItsShards() throws Exception {
    backend.broker().setShards("sharded", 3);
    String chord = "chord-" + UUID.randomUUID();
    backend
        .workflows()
        .putChord(new Chord(chord, 1, ChordPolicy.FAIL, message("cb-" + chord, "sharded")), TTL);
    backend.broker().enqueue(List.of(message("m0", "q")));
    Delivery d = claim("q", 1).get(0);
    List<NewMessage> followUps = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      followUps.add(message("f" + i, "sharded"));
    }
    Settlement s =
        new Settlement(
            d,
            Ending.ACK,
            null,
            List.of(status("m0", TaskState.SUCCESS)),
            followUps,
            new ChordPart(chord, 0, false));

    assertThat(backend.settle(List.of(s), TTL)).isEmpty();

    assertThat(ready("sharded")).isEqualTo(31);
    List<String> claimed = new ArrayList<>();
    for (List<Delivery> got = claim("sharded", 7); !got.isEmpty(); got = claim("sharded", 7)) {
      got.forEach(x -> claimed.add(x.id()));
      got.forEach(x -> assertThat(x.queue()).isEqualTo("sharded"));
    }
    assertThat(claimed).hasSize(31).contains("cb-" + chord).doesNotHaveDuplicates();
    assertThat(backend.broker().queues()).contains("sharded", "q").hasSize(2);
  }

  @Test
  void chordAndGroupKeysExpireWithTheirTimeToLive() throws Exception {
    String chord = "chord-" + UUID.randomUUID();
    String early = "early-" + UUID.randomUUID();
    backend
        .workflows()
        .putChord(new Chord(chord, 2, ChordPolicy.FAIL, message("cb", "callbacks")), TTL);
    backend.workflows().putGroup("g-" + chord, List.of("x", "y"), TTL);
    backend.broker().enqueue(List.of(message("m0", "q"), message("m1", "q")));
    List<Delivery> ds = claim("q", 2);

    backend.settle(
        List.of(
            new Settlement(ds.get(0), Ending.ACK, null, List.of(), List.of(), part(chord, 0)),
            new Settlement(ds.get(1), Ending.ACK, null, List.of(), List.of(), part(early, 0))),
        Duration.ofMinutes(10));

    String base = prefix + ":chord:{";
    withRedis(
        r -> {
          assertThat(r.pttl(base + chord + "}")).isBetween(1L, TTL.toMillis());
          assertThat(r.pttl(base + chord + "}:parts"))
              .as("the parts key expires with its chord")
              .isBetween(TTL.toMillis() - 60_000, TTL.toMillis());
          assertThat(r.pttl(base + early + "}"))
              .as("a placeholder: the settlement's time to live")
              .isBetween(1L, Duration.ofMinutes(10).toMillis());
          assertThat(r.pttl(base + early + "}:parts"))
              .isBetween(1L, Duration.ofMinutes(10).toMillis());
          assertThat(r.pttl(prefix + ":group:{g-" + chord + "}")).isBetween(1L, TTL.toMillis());
        });
    assertThat(backend.workflows().chord(early)).as("a placeholder is no chord").isEmpty();
  }

  static ChordPart part(String chord, int index) {
    return new ChordPart(chord, index, false);
  }

  @Test
  void aForeignValueUnderAFollowUpsQueueBecomesDeadLettersAndTheFollowUpIsEnqueued()
      throws Exception {
    String readyKey = prefix + ":q:{next}:ready";
    withRedis(r -> r.rpush(readyKey, "garbage"));
    backend.broker().enqueue(List.of(message("a", "q")));
    Delivery d = claim("q", 1).get(0);

    assertThat(backend.settle(List.of(ack(d, message("next-a", "next"))), TTL)).isEmpty();

    assertThat(claim("next", 10)).extracting(Delivery::id).containsExactly("next-a");
    List<DeadLetter> dead = backend.deadLetters().list("next", 0, 10);
    assertThat(dead).extracting(DeadLetter::body).containsExactly("garbage");
    assertThat(dead.get(0).error().message()).contains("under the queue key " + readyKey + " ");
  }

  @Test
  void aForeignValueUnderTheTaskIndexFailsTheCallBeforeAnyPartIsWritten() throws Exception {
    String indexMeta = prefix + ":{tasks}:meta";
    withRedis(r -> r.rpush(indexMeta, "not a hash"));
    backend.broker().enqueue(List.of(message("a", "q")));
    Delivery d = claim("q", 1).get(0);
    Settlement s =
        new Settlement(
            d,
            Ending.ACK,
            null,
            List.of(status("a", TaskState.SUCCESS)),
            List.of(message("next-a", "next")),
            null);

    assertThatThrownBy(() -> backend.settle(List.of(s), TTL)).isInstanceOf(BackendException.class);

    assertThat(backend.results().get("a")).isEmpty();
    assertThat(ready("next")).isZero();
    assertThat(backend.broker().renew(List.of(d), LEASE)).as("still leased").isEmpty();
    withRedis(r -> r.del(indexMeta));
    assertThat(backend.settle(List.of(s), TTL)).isEmpty();
    assertThat(backend.results().get("a")).isPresent();
  }

  @Test
  void retriedAndDelayedMessagesGetTheirPlaceByServerTime() throws Exception {
    backend.broker().enqueue(List.of(message("soon", "q"), message("later", "q")));
    List<Delivery> ds = claim("q", 2);
    Instant now = backend.clock().instant();

    backend.settle(
        List.of(
            new Settlement(
                ds.get(0),
                new Ending.Retry("again".getBytes(StandardCharsets.UTF_8), now.minusSeconds(1)),
                null,
                List.of(status(ds.get(0).id(), TaskState.RETRY)),
                List.of(),
                null),
            new Settlement(
                ds.get(1),
                new Ending.Retry(
                    "much later".getBytes(StandardCharsets.UTF_8), now.plusSeconds(60)),
                null,
                List.of(status(ds.get(1).id(), TaskState.RETRY)),
                List.of(),
                null)),
        TTL);

    List<Delivery> again = claim("q", 10);
    assertThat(again).extracting(Delivery::id).containsExactly("soon");
    assertThat(body(again.get(0))).isEqualTo("again");
    assertThat(backend.broker().stats("q").delayed()).isEqualTo(1);
  }

  @Test
  void settledStatusesAreIndexedButThoseOfStaleSettlementsAreNot() throws Exception {
    backend.broker().enqueue(List.of(message("a", "q"), message("b", "q")));
    List<Delivery> ds = claim("q", 2);
    backend.broker().release(ds.get(1));

    backend.settle(List.of(ack(ds.get(0)), ack(ds.get(1))), TTL);

    TaskQuery succeeded = TaskQuery.builder().state(TaskState.SUCCESS).build();
    assertThat(backend.results().search(succeeded).tasks())
        .extracting(TaskStatus::id)
        .containsExactly("a");
    assertThat(backend.results().count(succeeded)).isEqualTo(1);
  }

  @Test
  void aFollowUpWakesAClaimWaitingInAnotherProcess() throws Exception {
    backend.broker().enqueue(List.of(message("a", "q")));
    Delivery d = claim("q", 1).get(0);
    try (RedisBackend other = RedisBackend.open(url(prefix))) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<List<Delivery>> waiting =
            pool.submit(
                () -> other.broker().claim(List.of("next"), 1, LEASE, Duration.ofSeconds(50)));
        await() // subscribed and parked
            .during(Duration.ofMillis(300))
            .atMost(Duration.ofSeconds(10))
            .until(() -> !waiting.isDone());

        backend.settle(List.of(ack(d, message("next-a", "next"))), TTL);

        assertThat(waiting.get(10, TimeUnit.SECONDS))
            .extracting(Delivery::id)
            .containsExactly("next-a");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aChordOfTenThousandMembersSettledByThreeBackendsFiresItsCallbackOnce() throws Exception {
    int size = 10_000;
    String chord = "chord-" + UUID.randomUUID();
    backend
        .workflows()
        .putChord(
            new Chord(chord, size, ChordPolicy.FAIL, message("cb-" + chord, "callbacks")), TTL);
    List<NewMessage> members = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      members.add(message(chord + "-" + i, "members-" + i % 4));
    }
    for (int from = 0; from < size; from += 500) {
      backend.broker().enqueue(members.subList(from, from + 500));
    }
    List<String> queues = List.of("members-0", "members-1", "members-2", "members-3");
    AtomicInteger settled = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    List<RedisBackend> workers = new ArrayList<>();
    long start = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < 3; w++) {
        RedisBackend b = RedisBackend.open(url(prefix));
        workers.add(b);
        done.add(
            pool.submit(
                () -> {
                  List<Delivery> got;
                  while (!(got = b.broker().claim(queues, 64, LEASE, Duration.ZERO)).isEmpty()) {
                    List<Settlement> batch = new ArrayList<>(got.size());
                    for (Delivery d : got) {
                      int index = Integer.parseInt(d.id().substring(chord.length() + 1));
                      batch.add(
                          new Settlement(
                              d,
                              Ending.ACK,
                              null,
                              List.of(status(d.id(), TaskState.SUCCESS)),
                              List.of(),
                              new ChordPart(chord, index, false)));
                    }
                    assertThat(b.settle(batch, TTL)).isEmpty();
                    settled.addAndGet(batch.size());
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      workers.forEach(RedisBackend::close);
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.println(
        "[errand-test] settled a 10,000-member chord from 3 backends in " + millis + " ms");

    assertThat(settled.get()).isEqualTo(size);
    assertThat(backend.workflows().chord(chord).orElseThrow().finished()).isEqualTo(size);
    assertThat(ready("callbacks")).isEqualTo(1);
  }
}
