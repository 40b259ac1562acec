package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.BackendException;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskDef;
import dev.errand.redis.internal.RedisBroker;
import dev.errand.redis.testing.RedisServerProcess;
import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.Delivery;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.NewMessage;
import dev.errand.test.MutableClock;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Redis backend beyond the contract: foreign data, bounded memory, bad URLs, outages. */
class RedisBackendIT {

  static final TaskDef<Integer, Integer> DOUBLE =
      TaskDef.builder("it.double", Integer.class, Integer.class).build();

  String prefix;
  RedisBackend backend;
  Worker worker;

  @BeforeEach
  void open() {
    prefix = TestRedis.newPrefix();
    backend = RedisBackend.open(TestRedis.url(prefix, "events=500"));
  }

  @AfterEach
  void close() {
    if (worker != null) {
      worker.close();
    }
    backend.close();
    TestRedis.deleteKeys(prefix);
  }

  static NewMessage message(String id) {
    return new NewMessage(
        id,
        "q",
        5,
        ("{\"id\":\"" + id + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8),
        null,
        null,
        null);
  }

  void startWorker() {
    worker =
        Worker.builder(backend)
            .handle(DOUBLE, (n, ctx) -> n * 2)
            .options(
                WorkerOptions.builder()
                    .name("w-" + prefix)
                    .queues("default")
                    .concurrency(4)
                    .build())
            .build()
            .start();
  }

  @Test
  void rawValuesPushedOntoAQueueKeyBecomeDeadLettersAndTheQueueKeepsWorking() throws Exception {
    String readyKey = prefix + ":q:{default}:ready";
    TestRedis.withRedis(r -> r.lpush(readyKey, "garbage-1", "{\"not\":\"errand\"}"));
    startWorker();
    Client client = Client.create(backend);

    AsyncResult<Integer> after = client.enqueue(DOUBLE, 21);

    assertThat(after.get(Duration.ofSeconds(30))).isEqualTo(42);
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.deadLetters().count("default") == 2);
    List<DeadLetter> dead = backend.deadLetters().list("default", 0, 10);
    assertThat(dead).extracting(DeadLetter::reason).containsOnly(DeadLetterReason.UNDECODABLE);
    assertThat(dead)
        .extracting(DeadLetter::body)
        .containsExactlyInAnyOrder("garbage-1", "{\"not\":\"errand\"}");
    assertThat(dead.get(0).error().message()).contains("found a Redis list under the queue key");
    assertThat(worker.isConsuming()).isTrue();
  }

  @Test
  void aGarbageMessageInTheQueueIsDeadLetteredWithItsReason() throws Exception {
    TestRedis.withRedis(
        r -> {
          r.hset(prefix + ":q:{default}:body", "junk-1", "\u0001\u0002 not json");
          r.zadd(prefix + ":q:{default}:ready", 1.0, "junk-1");
          r.zadd(prefix + ":q:{default}:ready", 2.0, "no-body-at-all");
        });
    startWorker();

    await().atMost(Duration.ofSeconds(30)).until(() -> backend.deadLetters().count("default") == 2);
    DeadLetter junk = backend.deadLetters().get("junk-1").orElseThrow();
    assertThat(junk.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(junk.error().message()).isNotBlank();
    assertThat(backend.deadLetters().get("no-body-at-all")).isPresent();
    assertThat(Client.create(backend).enqueue(DOUBLE, 1).get(Duration.ofSeconds(30))).isEqualTo(2);
  }

  @Test
  void finishedTasksLeaveNothingInTheQueueAndTheEventLogStaysCapped() throws Exception {
    startWorker();
    Client client = Client.create(backend);
    List<AsyncResult<Integer>> sent = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      sent.add(client.enqueue(DOUBLE, i));
    }
    for (AsyncResult<Integer> r : sent) {
      r.get(Duration.ofSeconds(60));
    }
    worker.close();
    worker = null;

    TestRedis.withRedis(
        r -> {
          String q = prefix + ":q:{default}:";
          assertThat(r.hlen(q + "body")).as("bodies").isZero();
          assertThat(r.hlen(q + "meta")).as("metadata").isZero();
          assertThat(r.zcard(q + "leased")).as("leases").isZero();
          assertThat(r.zcard(q + "ready")).as("ready").isZero();
          // 4 events per task were published; the stream keeps about the capacity
          assertThat(r.xlen(prefix + ":{events}")).isLessThan(500);
          assertThat(r.pttl(prefix + ":r:{" + sent.get(0).id() + "}"))
              .as("results expire")
              .isPositive();
        });
    assertThat(backend.events().read(0, 10_000)).hasSize(500);
  }

  @Test
  void aThousandLimitKeysUsedOnceEachLeaveNothingOnceTheirRateHasRecovered() throws Exception {
    // 1000 keys at 20/s each: every key's state outlives its last start by 50 ms, then expires.
    MutableClock clock = new MutableClock();
    try (RedisBackend clocked = RedisBackend.open(TestRedis.url(prefix, ""), clock)) {
      List<NewMessage> batch = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        batch.add(limitedMessage("m" + i, "seller:" + i));
      }
      clocked.broker().enqueue(batch);
      drain(clocked, 1000);
      String lkeys = prefix + ":q:{q}:lkeys";
      long inUse = TestRedis.redis(r -> r.zcard(lkeys));
      assertThat(inUse).isEqualTo(1000);

      // every key's rate has recovered; one more key going idle sweeps their entries
      clock.advance(Duration.ofSeconds(1));
      clocked.broker().enqueue(List.of(limitedMessage("last", "seller:last")));
      drain(clocked, 1);

      long left = TestRedis.redis(r -> r.zcard(lkeys));
      assertThat(left).as("only the last key's entry").isEqualTo(1);
      List<String> held = TestRedis.redis(r -> r.keys(prefix + ":q:{q}:held:*"));
      assertThat(held).isEmpty();
      // the states themselves expire by Redis's own clock, 50 ms after their last start
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> TestRedis.redis(r -> r.keys(prefix + ":q:{q}:lim:*")).isEmpty());
    }
  }

  private static NewMessage limitedMessage(String id, String key) {
    return message(id).withFlowControl(new FlowLimit(key, 20, 1000, 1, 0), null);
  }

  /** Claims and acks {@code n} messages of queue q, without waiting. */
  private static void drain(RedisBackend b, int n) throws InterruptedException {
    int acked = 0;
    while (acked < n) {
      List<Delivery> got =
          b.broker().claim(List.of("q"), 200, Duration.ofSeconds(30), Duration.ZERO);
      assertThat(got).as("due now").isNotEmpty();
      for (Delivery d : got) {
        assertThat(b.broker().ack(d)).isTrue();
        acked++;
      }
    }
  }

  @Test
  void aRevocationReachesAnotherProcessThatAlreadyLoadedTheSet() throws Exception {
    try (RedisBackend other = RedisBackend.open(TestRedis.url(prefix, ""))) {
      assertThat(other.results().revoked(List.of("t1", "t2"))).isEmpty(); // loads and listens

      backend.results().revoke("t2", Duration.ofHours(1));

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> other.results().revoked(List.of("t1", "t2")).equals(java.util.Set.of("t2")));
      try (RedisBackend late = RedisBackend.open(TestRedis.url(prefix, ""))) {
        assertThat(late.results().revoked(List.of("t2")))
            .as("a new process loads what was revoked before it started")
            .containsExactly("t2");
      }
    }
  }

  /** A claim on queue "q" started on {@code pool}, once it is seen waiting for work. */
  static Future<List<Delivery>> waitingClaim(RedisBroker broker, ExecutorService pool) {
    Future<List<Delivery>> claim =
        pool.submit(
            () -> broker.claim(List.of("q"), 8, Duration.ofSeconds(30), Duration.ofSeconds(50)));
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(10))
        .until(() -> !claim.isDone());
    return claim;
  }

  @Test
  void aWaitingClaimIsSentWhenAnotherProcessEnqueuesAndItsClaimerGetsTheLease() throws Exception {
    try (RedisBackend producer = RedisBackend.open(TestRedis.url(prefix, ""))) {
      RedisBroker broker = (RedisBroker) backend.broker();
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<List<Delivery>> claim = waitingClaim(broker, pool);
        long sentBefore = broker.claimsOnWakeUp();

        producer.broker().enqueue(List.of(message("m1")));

        List<Delivery> got = claim.get(10, TimeUnit.SECONDS);
        assertThat(got).extracting(Delivery::id).containsExactly("m1");
        assertThat(broker.claimsOnWakeUp())
            .as("claimed by the thread that heard the wake-up, for the waiting claimer")
            .isEqualTo(sentBefore + 1);
        assertThat(backend.broker().stats("q").leased()).isEqualTo(1);
        assertThat(producer.broker().ack(got.get(0)))
            .as("the claimer holds the lease: its receipt acks the message")
            .isTrue();
        assertThat(backend.broker().stats("q").leased()).isZero();
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aClaimSentOnAWakeUpThatFindsNothingLeavesItsClaimerWaiting() throws Exception {
    try (RedisBackend other = RedisBackend.open(TestRedis.url(prefix, ""))) {
      RedisBroker broker = (RedisBroker) backend.broker();
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<List<Delivery>> claim = waitingClaim(broker, pool);
        long sentBefore = broker.claimsOnWakeUp();

        // A wake-up with nothing behind it (as when another consumer took the message first).
        TestRedis.withRedis(r -> r.publish(prefix + ":wake:q", "1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.claimsOnWakeUp() > sentBefore);
        await()
            .during(Duration.ofMillis(300))
            .atMost(Duration.ofSeconds(10))
            .until(() -> !claim.isDone());

        other.broker().enqueue(List.of(message("m1")));
        assertThat(claim.get(10, TimeUnit.SECONDS)).extracting(Delivery::id).containsExactly("m1");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aScheduleWriteWakesAWaiterInAnotherProcess() throws Exception {
    try (RedisBackend other = RedisBackend.open(TestRedis.url(prefix, ""))) {
      long seen = other.schedules().changes();
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<Long> waiter =
            pool.submit(() -> other.schedules().awaitChange(seen, Duration.ofSeconds(50)));
        await()
            .during(Duration.ofMillis(200))
            .atMost(Duration.ofSeconds(10))
            .until(() -> !waiter.isDone());

        long version = backend.schedules().put("nightly", "{}", 0).orElseThrow();

        assertThat(waiter.get(10, TimeUnit.SECONDS)).isNotEqualTo(seen);
        assertThat(other.schedules().get("nightly").orElseThrow().version()).isEqualTo(version);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aProducerGetsAClearErrorAfterTheTimeoutWhenRedisDoesNotAnswer() throws Exception {
    // CLIENT PAUSE stalls every client of the server: only on a server of this test's own.
    try (RedisServerProcess server = TestRedis.startPrivate();
        RedisBackend quick = RedisBackend.open(server.url() + "?timeout=300ms")) {
      Client client = Client.create(quick);
      client.enqueue(DOUBLE, 1); // connected and working
      TestRedis.redis(server.url(), r -> r.clientPause(1_500));
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.enqueue(DOUBLE, 2))
          .isInstanceOf(BackendException.class)
          .hasMessageContaining("no answer within 300 ms")
          .hasMessageContaining(server.address());
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }
  }

  @Test
  void anUnreachableServerIsNamedInTheError() throws Exception {
    assertThatThrownBy(() -> RedisBackend.open("redis://127.0.0.1:1/0?timeout=1s"))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("cannot connect to Redis at redis://127.0.0.1:1/0");
  }

  @Test
  void badUrlsNameTheProblem() throws Exception {
    assertThatThrownBy(() -> RedisBackend.open("redis://127.0.0.1:6379/0?prefix=a{b}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("prefix 'a{b}'");
    assertThatThrownBy(() -> RedisBackend.open("redis://127.0.0.1:6379/0?timeout=soon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout='soon'");
    assertThatThrownBy(() -> RedisBackend.open("http://127.0.0.1:6379"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a Redis URL");
    assertThat(
            dev.errand.redis.internal.RedisUrl.parse("redis://:secret@127.0.0.1:6379/0").display())
        .doesNotContain("secret")
        .contains("***@127.0.0.1:6379");
  }
}
