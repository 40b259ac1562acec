package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.Delivery;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data another program wrote into a queue's keys: metadata Errand did not write is dead-lettered
 * with the reason on the first claim (never a claim that throws, lease after lease), and a value of
 * the wrong type under any key of a queue is moved aside and surfaced as dead letters while the
 * queue keeps working.
 */
class RedisForeignDataIT {

  static final TaskDef<Integer, Integer> DOUBLE =
      TaskDef.builder("it.double", Integer.class, Integer.class).build();

  String prefix;
  String q; // the key prefix of queue "default"
  RedisBackend backend;
  Client client;
  Worker worker;
  final AtomicInteger runs = new AtomicInteger();

  @BeforeEach
  void open() {
    prefix = TestRedis.newPrefix();
    q = prefix + ":q:{default}:";
    backend = RedisBackend.open(TestRedis.url(prefix, ""));
    client = Client.create(backend);
  }

  @AfterEach
  void close() {
    if (worker != null) {
      worker.close();
    }
    backend.close();
    TestRedis.deleteKeys(prefix);
  }

  void startWorker() {
    worker =
        Worker.builder(backend)
            .handle(
                DOUBLE,
                (n, ctx) -> {
                  runs.incrementAndGet();
                  return n * 2;
                })
            .options(
                WorkerOptions.builder()
                    .name("w-" + prefix)
                    .queues("default")
                    .leaseDuration(Duration.ofSeconds(1))
                    .build())
            .build()
            .start();
  }

  /** Rewrites the stored metadata of {@code id}. */
  void corruptMeta(String id, String meta) {
    TestRedis.withRedis(r -> r.hset(q + "meta", id, meta));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "5,17592186044417,100000000000000000000,,1796212838463", // 1e+20 deliveries
        "5,17592186044417,2147483647,,1796212838463", // one more wraps a Java int
        "99999999999999999999,17592186044417,0,,1796212838463", // a priority Java cannot read
        "12,17592186044417,0,,1796212838463",
        "5,1,1e+20,,1",
        "not meta at all"
      })
  void metadataErrandDidNotWriteIsDeadLetteredOnTheFirstClaim(String meta) throws Exception {
    AsyncResult<Integer> sent = client.enqueue(DOUBLE, 21);
    corruptMeta(sent.id(), meta);

    List<Delivery> got =
        backend.broker().claim(List.of("default"), 10, Duration.ofSeconds(30), Duration.ZERO);

    assertThat(got).isEmpty();
    DeadLetter dead = backend.deadLetters().get(sent.id()).orElseThrow();
    assertThat(dead.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(dead.taskName()).isEqualTo("it.double");
    assertThat(dead.error().message())
        .contains("the metadata of message " + sent.id() + " under " + q + "meta")
        .contains("'" + meta + "'");
    assertThat(backend.broker().stats("default").leased()).as("acked").isZero();
    TestRedis.withRedis(r -> assertThat(r.hlen(q + "body")).isZero());

    assertThat(client.deadLetters().redrive(sent.id())).isTrue();
    startWorker();
    assertThat(sent.get(Duration.ofSeconds(30))).as("re-driven, it runs").isEqualTo(42);
  }

  @Test
  void aWorkerDeadLettersCorruptMetadataOnceAndKeepsConsuming() throws Exception {
    AsyncResult<Integer> corrupt = client.enqueue(DOUBLE, 1);
    corruptMeta(corrupt.id(), "99999999999999999999,17592186044417,0,,1796212838463");
    startWorker();

    await().atMost(Duration.ofSeconds(30)).until(() -> backend.deadLetters().count("default") == 1);
    assertThat(client.enqueue(DOUBLE, 2).get(Duration.ofSeconds(30))).isEqualTo(4);
    assertThat(worker.isConsuming()).isTrue();
    await()
        .during(Duration.ofSeconds(2)) // twice the lease: it is not delivered again
        .atMost(Duration.ofSeconds(3))
        .until(() -> runs.get() == 1 && backend.deadLetters().count("default") == 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ready", "delayed", "leased", "body", "meta", "seq"})
  void aValueOfTheWrongTypeUnderAQueueKeyBecomesDeadLettersAndTheQueueKeepsWorking(String key)
      throws Exception {
    TestRedis.withRedis(
        r -> {
          r.del(q + key);
          r.rpush(q + key, "garbage-1", "{\"not\":\"errand\"}");
        });
    startWorker();

    AsyncResult<Integer> later =
        client.enqueue(DOUBLE, 5, TaskOptions.builder().countdown(Duration.ofMillis(200)).build());
    AsyncResult<Integer> now = client.enqueue(DOUBLE, 21);

    assertThat(now.get(Duration.ofSeconds(30))).isEqualTo(42);
    assertThat(later.get(Duration.ofSeconds(30))).isEqualTo(10);
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.deadLetters().count("default") >= 2);
    List<DeadLetter> dead = backend.deadLetters().list("default", 0, 10);
    assertThat(dead)
        .filteredOn(d -> d.id().startsWith("foreign-"))
        .extracting(DeadLetter::body)
        .containsExactlyInAnyOrder("garbage-1", "{\"not\":\"errand\"}");
    assertThat(dead)
        .filteredOn(d -> d.id().startsWith("foreign-"))
        .allSatisfy(
            d -> {
              assertThat(d.reason()).isEqualTo(DeadLetterReason.UNDECODABLE);
              assertThat(d.error().message())
                  .contains("found a Redis list under the queue key " + q + key + " ");
            });
    assertThat(worker.isConsuming()).isTrue();
    TestRedis.withRedis(
        r ->
            assertThat(ScanIterator.scan(r, ScanArgs.Builder.matches(q + "*foreign*")).hasNext())
                .as("nothing is left aside")
                .isFalse());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ldue",
        "lkeys",
        "lkey",
        "ukey",
        "uniq",
        "limited",
        "lim:task:it.double",
        "held:task:it.double"
      })
  void aValueOfTheWrongTypeUnderAFlowControlKeyBecomesDeadLettersAndLimitsKeepWorking(String key)
      throws Exception {
    TestRedis.withRedis(r -> r.rpush(q + key, "garbage-1", "{\"not\":\"errand\"}"));
    startWorker();

    TaskOptions oneAtATime = TaskOptions.builder().concurrencyLimit(1).build();
    List<AsyncResult<Integer>> sent = new java.util.ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      sent.add(client.enqueue(DOUBLE, i, oneAtATime));
    }
    AsyncResult<Integer> unique =
        client.enqueue(DOUBLE, 50, TaskOptions.builder().uniqueKey("only-one").build());

    for (int i = 0; i < 3; i++) {
      assertThat(sent.get(i).get(Duration.ofSeconds(30))).isEqualTo(2 * (i + 1));
    }
    assertThat(unique.get(Duration.ofSeconds(30))).isEqualTo(100);
    await().atMost(Duration.ofSeconds(10)).until(() -> backend.deadLetters().count("default") >= 2);
    assertThat(backend.deadLetters().list("default", 0, 10))
        .filteredOn(d -> d.id().startsWith("foreign-"))
        .extracting(DeadLetter::body)
        .containsExactlyInAnyOrder("garbage-1", "{\"not\":\"errand\"}");
    assertThat(worker.isConsuming()).isTrue();
  }

  @Test
  void aCounterThatIsNotANumberAndAnIdempotencyKeyErrandDidNotWriteAreMovedAside()
      throws Exception {
    TestRedis.withRedis(
        r -> {
          r.set(q + "seq", "forty-two");
          r.set(q + "idem:order-7", "soon|someone");
        });
    startWorker();

    AsyncResult<Integer> keyed =
        client.enqueue(DOUBLE, 4, TaskOptions.builder().idempotencyKey("order-7").build());

    assertThat(keyed.get(Duration.ofSeconds(30))).isEqualTo(8);
    assertThat(backend.deadLetters().list("default", 0, 10))
        .extracting(DeadLetter::body)
        .containsExactlyInAnyOrder("forty-two", "soon|someone");
    assertThat(
            client.enqueue(DOUBLE, 4, TaskOptions.builder().idempotencyKey("order-7").build()).id())
        .as("the key now holds the message that took it")
        .isEqualTo(keyed.id());
  }
}
