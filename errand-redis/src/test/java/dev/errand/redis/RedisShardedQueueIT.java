package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.ChordPolicy;
import dev.errand.TaskState;
import dev.errand.redis.testing.RedisClusterProcess;
import dev.errand.redis.testing.RedisServerProcess;
import dev.errand.redis.testing.TestRedis;
import dev.errand.redis.testing.TestRedisCluster;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.Settlement.Ending;
import dev.errand.spi.WorkflowStore.Chord;
import dev.errand.test.MutableClock;
import dev.errand.test.TestStatuses;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sharded queues on the tests' Redis Cluster (three masters): one logical queue over N hash tags,
 * placed on different masters, claimed in rotation, with priorities and FIFO per shard, flow
 * control and keys kept in one shard, and a change of the shard count that loses nothing.
 */
class RedisShardedQueueIT {

  static final Duration TTL = Duration.ofHours(1);
  static final Duration LEASE = Duration.ofSeconds(30);

  final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T10:00:00Z"));
  String prefix;
  RedisBackend backend;
  Broker broker;

  @BeforeEach
  void open() {
    prefix = TestRedis.newPrefix();
    backend = RedisBackend.open(TestRedisCluster.url(prefix, ""), clock);
    broker = backend.broker();
  }

  @AfterEach
  void close() {
    backend.close();
    TestRedisCluster.deleteKeys(prefix);
  }

  static NewMessage message(String queue, int priority, String label) {
    return new NewMessage(
        UUID.randomUUID().toString(),
        queue,
        priority,
        label.getBytes(StandardCharsets.UTF_8),
        null,
        null,
        null);
  }

  static String label(Delivery d) {
    return new String(d.body(), StandardCharsets.UTF_8);
  }

  List<Delivery> claimAll(String queue, int max) throws InterruptedException {
    List<Delivery> out = new ArrayList<>();
    while (true) {
      List<Delivery> got = broker.claim(List.of(queue), max, LEASE, Duration.ZERO);
      if (got.isEmpty()) {
        return out;
      }
      out.addAll(got);
    }
  }

  /** The message count (ready, delayed, held or leased) of each shard of {@code queue}. */
  Map<String, Long> messagesPerShard(String queue) {
    return TestRedisCluster.redis(
        TestRedisCluster.cluster(),
        r -> {
          Map<String, Long> out = new HashMap<>();
          for (String key : r.keys(prefix + ":q:{" + queue + "*}:body")) {
            out.put(key, r.hlen(key));
          }
          return out;
        });
  }

  /** The ready count of each physical queue (shard) of {@code queue}, from its keys. */
  Map<String, Long> readyPerShard(String queue) {
    return TestRedisCluster.redis(
        TestRedisCluster.cluster(),
        r -> {
          Map<String, Long> out = new HashMap<>();
          for (String key : r.keys(prefix + ":q:{" + queue + "*}:ready")) {
            out.put(key, r.zcard(key));
          }
          return out;
        });
  }

  @Test
  void aShardedQueueSpreadsOverEveryMasterAndEachMessageIsDeliveredOnce() throws Exception {
    broker.setShards("hot", 3);
    assertThat(broker.shards("hot")).isEqualTo(3);
    List<NewMessage> sent = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      sent.add(message("hot", 5, "m" + i));
    }
    broker.enqueue(sent);

    Map<String, Long> perShard = readyPerShard("hot");
    assertThat(perShard).hasSize(3);
    assertThat(perShard.values()).allSatisfy(n -> assertThat(n).isBetween(120L, 280L));
    Set<String> masters = new HashSet<>();
    RedisClusterProcess cluster = TestRedisCluster.cluster();
    for (String key : perShard.keySet()) {
      int slot = SlotHash.getSlot(key);
      masters.add(ownerOf(cluster, slot));
    }
    assertThat(masters).as("one shard on each master").hasSize(3);
    assertThat(broker.stats("hot").ready()).isEqualTo(600);
    assertThat(broker.queues()).contains("hot").noneMatch(q -> q.contains(" "));

    List<Delivery> got = claimAll("hot", 50);
    assertThat(got).extracting(Delivery::id).doesNotHaveDuplicates().hasSize(600);
    assertThat(got).allSatisfy(d -> assertThat(d.queue()).isEqualTo("hot"));
    assertThat(broker.stats("hot").leased()).isEqualTo(600);
    assertThat(backend.settle(acks(got), TTL)).isEmpty();
    assertThat(broker.stats("hot").leased()).isZero();
    assertThat(backend.results().get(got.get(0).id())).isPresent();
  }

  @Test
  void claimsRotateOverTheShards() throws Exception {
    broker.setShards("rot", 3);
    List<NewMessage> sent = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      sent.add(message("rot", 5, "m" + i));
    }
    broker.enqueue(sent);
    // Three claims of 10: each starts at the next shard, so each takes from a different one.
    Set<String> shardsSeen = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      List<Delivery> got = broker.claim(List.of("rot"), 10, LEASE, Duration.ZERO);
      assertThat(got).hasSize(10);
      Set<String> receipts = new HashSet<>();
      for (Delivery d : got) {
        receipts.add(d.receipt().substring(d.receipt().indexOf('~'), d.receipt().lastIndexOf('.')));
      }
      assertThat(receipts).as("one shard per claim of 10").hasSize(1);
      shardsSeen.addAll(receipts);
    }
    assertThat(shardsSeen).hasSize(3);
  }

  @Test
  void priorityAndFifoHoldWithinAShardAndMessagesOfOneLimitKeyShareOne() throws Exception {
    broker.setShards("lim", 3);
    FlowLimit limit = new FlowLimit("tenant-7", 0, 0, 1, 2); // at most 2 running at once
    List<NewMessage> sent = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sent.add(message("lim", i < 10 ? 3 : 8, "m" + i).withFlowControl(limit, null));
    }
    broker.enqueue(sent);
    assertThat(messagesPerShard("lim").values())
        .as("all in the shard of the limit key")
        .containsExactly(20L);

    List<Delivery> first = claimAll("lim", 10);
    assertThat(first).as("the concurrency limit holds across the claims").hasSize(2);
    assertThat(first).extracting(RedisShardedQueueIT::label).containsExactly("m10", "m11");
    assertThat(backend.settle(acks(first), TTL)).isEmpty();
    List<Delivery> next = claimAll("lim", 10);
    assertThat(next).extracting(RedisShardedQueueIT::label).containsExactly("m12", "m13");
  }

  @Test
  void anIdempotencyKeyDeduplicatesAcrossShards() throws Exception {
    broker.setShards("idem", 3);
    List<String> holders = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      NewMessage m =
          new NewMessage(
              "id-" + i,
              "idem",
              5,
              "x".getBytes(StandardCharsets.UTF_8),
              null,
              "order-42",
              Duration.ofMinutes(5));
      holders.add(broker.enqueue(List.of(m)).get(0).id());
    }
    assertThat(holders).containsOnly("id-0");
    assertThat(broker.stats("idem").ready()).isEqualTo(1);
  }

  @Test
  void retryReleaseRenewAndDeadLettersKnowTheShardAndNameTheQueue() throws Exception {
    broker.setShards("ops", 3);
    List<NewMessage> sent = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      sent.add(message("ops", 5, "m" + i));
    }
    broker.enqueue(sent);
    List<Delivery> got = claimAll("ops", 30);
    assertThat(got).hasSize(30);
    assertThat(broker.renew(got, LEASE)).isEmpty();
    assertThat(broker.release(got.get(0))).isTrue();
    assertThat(broker.retry(got.get(1), "again".getBytes(StandardCharsets.UTF_8), clock.instant()))
        .isTrue();
    Delivery d = got.get(2);
    dev.errand.DeadLetter letter =
        new dev.errand.DeadLetter(
            d.id(),
            "t",
            d.queue(),
            dev.errand.DeadLetterReason.FAILED,
            dev.errand.TaskError.of("Boom", "no"),
            null,
            null,
            "m2",
            1,
            null,
            clock.instant());
    assertThat(
            backend.settle(
                List.of(
                    new Settlement(
                        d,
                        Ending.ACK,
                        letter,
                        List.of(status(d.id(), TaskState.FAILURE)),
                        List.of(),
                        null)),
                TTL))
        .isEmpty();
    assertThat(backend.deadLetters().list("ops", 0, 10)).extracting(dl -> dl.id()).contains(d.id());
    List<Delivery> again = claimAll("ops", 10);
    assertThat(again)
        .extracting(Delivery::id)
        .containsExactlyInAnyOrder(got.get(0).id(), got.get(1).id());
    assertThat(broker.stats("ops").leased()).isEqualTo(29);
  }

  @Test
  void aChordCallbackAndFollowUpsGoToTheirShards() throws Exception {
    broker.setShards("cb", 3);
    String chord = "chord-" + UUID.randomUUID();
    backend
        .workflows()
        .putChord(new Chord(chord, 1, ChordPolicy.FAIL, message("cb", 5, "callback")), TTL);
    broker.enqueue(List.of(message("work", 5, "member")));
    Delivery d = claimAll("work", 1).get(0);
    Settlement s =
        new Settlement(
            d,
            Ending.ACK,
            null,
            List.of(status(d.id(), TaskState.SUCCESS)),
            List.of(message("cb", 5, "follow-up")),
            new ChordPart(chord, 0, false));
    assertThat(backend.settle(List.of(s), TTL)).isEmpty();

    assertThat(claimAll("cb", 10))
        .extracting(RedisShardedQueueIT::label)
        .containsExactlyInAnyOrder("callback", "follow-up");
  }

  @Test
  void pauseHoldsForEveryShardAlsoThoseAddedLater() throws Exception {
    broker.setShards("p", 2);
    broker.pause("p");
    broker.setShards("p", 3);
    List<NewMessage> sent = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      sent.add(message("p", 5, "m" + i));
    }
    broker.enqueue(sent);
    assertThat(claimAll("p", 30)).isEmpty();
    assertThat(broker.stats("p").paused()).isTrue();
    broker.resume("p");
    assertThat(claimAll("p", 30)).hasSize(30);
  }

  @Test
  void changingTheShardCountDrainsTheEarlierShardsAndThenForgetsThem() throws Exception {
    broker.setShards("resh", 3);
    List<NewMessage> before = new ArrayList<>();
    for (int i = 0; i < 90; i++) {
      before.add(message("resh", 5, "old" + i));
    }
    broker.enqueue(before);

    broker.setShards("resh", 2);
    List<NewMessage> after = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      after.add(message("resh", 5, "new" + i));
    }
    broker.enqueue(after);
    assertThat(broker.stats("resh").ready()).isEqualTo(130);
    assertThat(readyPerShard("resh").keySet().stream().filter(k -> k.contains(" 2/"))).hasSize(2);

    List<Delivery> got = claimAll("resh", 25);
    assertThat(got).hasSize(130);
    assertThat(backend.settle(acks(got), TTL)).isEmpty();
    assertThat(broker.purge("resh")).isZero();

    // Empty, but not yet a minute past the change: still claimed from.
    broker.claim(List.of("resh"), 1, LEASE, Duration.ZERO);
    assertThat(layout("resh")).contains(";3@");
    clock.advance(Duration.ofSeconds(61));
    broker.claim(List.of("resh"), 1, LEASE, Duration.ZERO);
    assertThat(layout("resh")).isEqualTo("2");
    assertThat(broker.shards("resh")).isEqualTo(2);

    assertThatThrownBy(() -> broker.setShards("resh", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1-256");
    assertThatThrownBy(() -> broker.setShards("{x}", 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("braces");
  }

  private String layout(String queue) {
    return TestRedisCluster.redis(
        TestRedisCluster.cluster(), r -> r.hget(prefix + ":{queues}:shards", queue));
  }

  private List<Settlement> acks(List<Delivery> ds) {
    List<Settlement> out = new ArrayList<>();
    for (Delivery d : ds) {
      out.add(
          new Settlement(
              d, Ending.ACK, null, List.of(status(d.id(), TaskState.SUCCESS)), List.of(), null));
    }
    return out;
  }

  private dev.errand.TaskStatus status(String id, TaskState state) {
    return TestStatuses.status(id, "t", state, "q", clock.instant());
  }

  private static String ownerOf(RedisClusterProcess cluster, int slot) {
    for (RedisServerProcess m : cluster.nodes()) {
      String nodes = RedisClusterProcess.on(m, r -> r.clusterNodes());
      for (String line : nodes.lines().toList()) {
        if (!line.contains("master") || line.contains("fail")) {
          continue;
        }
        String[] f = line.split(" ");
        for (int i = 8; i < f.length; i++) {
          String[] range = f[i].split("-");
          int from = Integer.parseInt(range[0]);
          int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
          if (slot >= from && slot <= to) {
            return f[0];
          }
        }
      }
      return "?";
    }
    return "?";
  }

  @Test
  void aLayoutErrandDidNotWriteReadsAsUnshardedAndEnqueuesGoOn() throws Exception {
    TestRedisCluster.redis(
        TestRedisCluster.cluster(), r -> r.hset(prefix + ":{queues}:shards", "odd", "three;x@y"));
    broker.enqueue(List.of(message("odd", 5, "m")));
    assertThat(claimAll("odd", 10)).extracting(RedisShardedQueueIT::label).containsExactly("m");
    assertThat(broker.shards("odd")).isEqualTo(1);
    broker.setShards("odd", 2);
    assertThat(broker.shards("odd")).isEqualTo(2);
  }
}
