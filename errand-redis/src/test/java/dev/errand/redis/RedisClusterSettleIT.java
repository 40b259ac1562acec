package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.BackendException;
import dev.errand.ChordPolicy;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.redis.testing.TestRedisCluster;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.Settlement.Ending;
import dev.errand.spi.TaskQuery;
import dev.errand.spi.WorkflowStore.Chord;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link RedisSettleIT} on a Redis Cluster, where a settlement's parts outside its queue's slot go
 * through the queue's outbox (SlotSettler).
 */
class RedisClusterSettleIT extends RedisSettleIT {

  @Override
  String url(String prefix) {
    return TestRedisCluster.url(prefix, "");
  }

  @Override
  void withRedis(Consumer<RedisClusterCommands<String, String>> work) {
    TestRedisCluster.redis(
        TestRedisCluster.cluster(),
        r -> {
          work.accept(r);
          return null;
        });
  }

  @Override
  void deleteKeys(String prefix) {
    TestRedisCluster.deleteKeys(prefix);
  }

  /**
   * On a cluster the task index is in another slot than the queue: the call fails after the
   * delivery was ended and its outbox entry written, and the sweep applies the entry once the index
   * is mended. Nothing is lost.
   */
  @Override
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
    assertThat(ready("next")).as("the follow-up waits in the outbox").isZero();
    assertThat(backend.broker().renew(List.of(d), LEASE)).as("ended").containsExactly("a");

    withRedis(r -> r.del(indexMeta));
    backend.sweepOutboxes(Duration.ZERO);

    assertThat(backend.results().get("a")).isPresent();
    assertThat(backend.results().search(TaskQuery.builder().build()).tasks()).hasSize(1);
    assertThat(ready("next")).isEqualTo(1);
    assertThat(outboxSize("q")).isZero();
  }

  @Test
  void whatAProcessThatDiedAfterTheEndingsLeftInTheOutboxIsAppliedOnceBySweeping()
      throws Exception {
    String chord = "chord-" + UUID.randomUUID();
    backend
        .workflows()
        .putChord(new Chord(chord, 2, ChordPolicy.FAIL, message("cb-" + chord, "callbacks")), TTL);
    backend.broker().enqueue(List.of(message("m0", "q"), message("m1", "q")));
    List<Delivery> ds = claim("q", 2);
    DeadLetter letter =
        new DeadLetter(
            "m1",
            "t",
            "q",
            DeadLetterReason.FAILED,
            TaskError.of("Boom", "it broke"),
            null,
            null,
            "body-m1",
            3,
            null,
            backend.clock().instant());
    List<Settlement> batch =
        List.of(
            new Settlement(
                ds.get(0),
                Ending.ACK,
                null,
                List.of(status("m0", TaskState.SUCCESS)),
                List.of(message("after-m0", "next")),
                new ChordPart(chord, 0, false)),
            new Settlement(
                ds.get(1),
                Ending.ACK,
                letter,
                List.of(status("m1", TaskState.FAILURE)),
                List.of(),
                new ChordPart(chord, 1, true)));

    backend.dieAfterEndings();
    assertThatThrownBy(() -> backend.settle(batch, TTL)).isInstanceOf(BackendException.class);

    assertThat(backend.broker().stats("q").leased()).as("the deliveries ended").isZero();
    assertThat(backend.results().get("m0")).as("not applied yet").isEmpty();
    assertThat(outboxSize("q")).isEqualTo(2);
    backend.sweepOutboxes(Duration.ofMinutes(1));
    assertThat(outboxSize("q")).as("younger than the grace period: left alone").isEqualTo(2);

    backend.sweepOutboxes(Duration.ZERO);

    assertThat(outboxSize("q")).isZero();
    assertThat(backend.results().get("m0").orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
    assertThat(backend.results().get("m1").orElseThrow().state()).isEqualTo(TaskState.FAILURE);
    assertThat(backend.deadLetters().get("m1")).isPresent();
    assertThat(ready("next")).isEqualTo(1);
    assertThat(backend.workflows().chord(chord).orElseThrow().finished()).isEqualTo(2);
    assertThat(claim("callbacks", 10)).extracting(Delivery::id).containsExactly("cb-" + chord);

    backend.sweepOutboxes(Duration.ZERO);
    assertThat(ready("next")).as("applied once").isEqualTo(1);
  }

  @Test
  void theChordPartThatFiredTheCallbackFiresItAgainWhenItsEntryIsAppliedAgain() throws Exception {
    String chord = "chord-" + UUID.randomUUID();
    NewMessage callback = message("cb-" + chord, "callbacks");
    backend.workflows().putChord(new Chord(chord, 1, ChordPolicy.FAIL, callback), TTL);
    backend.broker().enqueue(List.of(message("m0", "q")));
    Delivery d = claim("q", 1).get(0);
    Settlement s =
        new Settlement(
            d,
            Ending.ACK,
            null,
            List.of(status("m0", TaskState.SUCCESS)),
            List.of(),
            new ChordPart(chord, 0, false));
    assertThat(backend.settle(List.of(s), TTL)).isEmpty();
    assertThat(ready("callbacks")).isEqualTo(1);

    // the same part recorded again (an entry applied twice): the callback is queued, so not again
    backend.settle(
        List.of(new Settlement(null, null, null, List.of(), List.of(), s.chordPart())), TTL);
    assertThat(ready("callbacks")).isEqualTo(1);
    // once the callback ran and was acked, a second application would enqueue it again: this is
    // the at-least-once documented for a crash between the ending and the outbox's deletion
    assertThat(backend.workflows().chord(chord).orElseThrow().finished()).isEqualTo(1);
  }

  private long outboxSize(String queue) {
    long[] n = new long[1];
    withRedis(r -> n[0] = r.hlen(prefix + ":q:{" + queue + "}:outbox"));
    return n[0];
  }

  @Test
  void anOutboxEntryNotWrittenByErrandBecomesADeadLetterAndAValueOfTheWrongTypeIsMovedAside()
      throws Exception {
    String outbox = prefix + ":q:{q}:outbox";
    withRedis(r -> r.hset(outbox, "junk", "not an entry"));
    backend.broker().enqueue(List.of(message("a", "q")));
    Delivery d = claim("q", 1).get(0); // a consumer of q: it sweeps q's outbox

    backend.sweepOutboxes(Duration.ZERO);

    assertThat(outboxSize("q")).isZero();
    List<DeadLetter> dead = backend.deadLetters().list("q", 0, 10);
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).body()).isEqualTo("not an entry");
    assertThat(dead.get(0).error().message())
        .contains("outbox entry junk")
        .contains("cannot be read");

    withRedis(r -> r.del(outbox));
    withRedis(r -> r.set(outbox, "a string where a hash belongs"));
    assertThat(backend.settle(List.of(ack(d, message("next-a", "next"))), TTL)).isEmpty();
    assertThat(ready("next")).isEqualTo(1);
    assertThat(backend.results().get("a")).isPresent();
    assertThat(backend.deadLetters().list("q", 0, 10))
        .extracting(DeadLetter::body)
        .contains("a string where a hash belongs");
  }
}
