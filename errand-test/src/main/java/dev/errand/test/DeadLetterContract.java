package dev.errand.test;

import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.claimOne;
import static dev.errand.test.ContractSupport.newId;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.DeadLetters;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.wire.MessageOptions;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dead letter store, and re-driving through the public client API. */
interface DeadLetterContract extends ContractFixture {

  @Test
  default void addListGetRemoveCount() {
    DeadLetterStore store = backend().deadLetters();
    DeadLetter letter = letter("reports", clock().instant());

    store.add(letter);

    assertThat(store.get(letter.id())).contains(letter);
    assertThat(store.list(null, 0, 10)).containsExactly(letter);
    assertThat(store.count(null)).isEqualTo(1);
    assertThat(store.count("reports")).isEqualTo(1);
    assertThat(store.count("mail")).isZero();
    assertThat(store.remove(letter.id())).isTrue();
    assertThat(store.remove(letter.id())).isFalse();
    assertThat(store.get(letter.id())).isEmpty();
    assertThat(store.list(null, 0, 10)).isEmpty();
    assertThat(store.count(null)).isZero();
  }

  @Test
  default void countByQueueCountsEveryQueueWithDeadLettersInOneRead() {
    DeadLetterStore store = backend().deadLetters();
    assertThat(store.countByQueue()).isEmpty();
    Instant t = clock().instant();
    DeadLetter a1 = letter("a", t);
    DeadLetter gone = letter("gone", t);
    for (DeadLetter d : List.of(a1, letter("a", t), letter("b", t), gone)) {
      store.add(d);
    }
    store.add(a1); // adding again replaces: still one
    store.remove(gone.id());

    assertThat(store.countByQueue())
        .as("a queue whose last dead letter went is not listed")
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", 2L, "b", 1L));
  }

  @Test
  default void newestFirst() {
    DeadLetterStore store = backend().deadLetters();
    Instant t = clock().instant();
    DeadLetter middle = letter("q", t.plusSeconds(2));
    DeadLetter oldest = letter("q", t.plusSeconds(1));
    DeadLetter newest = letter("q", t.plusSeconds(3));
    DeadLetter sameTimeAddedFirst = letter("q", t);
    DeadLetter sameTimeAddedLast = letter("q", t);
    for (DeadLetter d : List.of(middle, oldest, newest, sameTimeAddedFirst, sameTimeAddedLast)) {
      store.add(d);
    }

    assertThat(store.list(null, 0, 10))
        .containsExactly(newest, middle, oldest, sameTimeAddedLast, sameTimeAddedFirst);
    assertThat(store.list(null, 1, 2)).containsExactly(middle, oldest);
    assertThat(store.list(null, 4, 10)).containsExactly(sameTimeAddedFirst);
    assertThat(store.list(null, 5, 10)).isEmpty();
    assertThat(store.list(null, 0, 0)).isEmpty();
  }

  @Test
  default void filterByQueue() {
    DeadLetterStore store = backend().deadLetters();
    Instant t = clock().instant();
    DeadLetter a1 = letter("a", t);
    DeadLetter b1 = letter("b", t.plusSeconds(1));
    DeadLetter a2 = letter("a", t.plusSeconds(2));
    DeadLetter a3 = letter("a", t.plusSeconds(3));
    for (DeadLetter d : List.of(a1, b1, a2, a3)) {
      store.add(d);
    }

    assertThat(store.list("a", 0, 10)).containsExactly(a3, a2, a1);
    assertThat(store.list("a", 1, 1)).containsExactly(a2);
    assertThat(store.list("b", 0, 10)).containsExactly(b1);
    assertThat(store.list("c", 0, 10)).isEmpty();
    assertThat(store.count("a")).isEqualTo(3);
    assertThat(store.count(null)).isEqualTo(4);
  }

  @Test
  default void upsertById() {
    DeadLetterStore store = backend().deadLetters();
    DeadLetter first = letter("a", clock().instant());
    DeadLetter replacement =
        new DeadLetter(
            first.id(),
            null,
            "b",
            DeadLetterReason.UNDECODABLE,
            TaskError.of("dev.errand.InvalidMessageException", "not valid JSON"),
            null,
            null,
            "{oops",
            5,
            null,
            clock().instant().plusSeconds(1));

    store.add(first);
    store.add(replacement);

    assertThat(store.get(first.id())).contains(replacement);
    assertThat(store.list(null, 0, 10)).containsExactly(replacement);
    assertThat(store.count(null)).isEqualTo(1);
    assertThat(store.count("a")).isZero();
    assertThat(store.count("b")).isEqualTo(1);
  }

  @Test
  default void redriveSendsTheTaskAgainAndRemovesTheDeadLetter() throws Exception {
    DeadLetter letter = letter("reports", clock().instant());
    backend().deadLetters().add(letter);
    DeadLetters deadLetters = client().deadLetters();

    assertThat(deadLetters.redrive(letter.id())).isTrue();

    assertThat(backend().deadLetters().get(letter.id())).isEmpty();
    Delivery d = claimOne(backend().broker(), "reports");
    assertThat(d.id()).isEqualTo(letter.id());
    assertThat(d.priority()).isEqualTo(7);
    TaskMessage again = Wire.decodeMessage(d.body());
    assertThat(again.task()).isEqualTo("reports.build");
    assertThat(again.retries()).isZero();
    assertThat(again.kwargs()).isEqualTo(letter.kwargs());
    assertThat(backend().results().get(letter.id()))
        .map(TaskStatus::state)
        .contains(TaskState.PENDING);
    assertThat(deadLetters.redrive(letter.id())).as("already re-driven").isFalse();
  }

  @Test
  default void redriveAllRedrivesOneQueueOrAll() throws Exception {
    Instant t = clock().instant();
    for (int i = 0; i < 3; i++) {
      backend().deadLetters().add(letter("a", t.plusSeconds(i)));
    }
    backend().deadLetters().add(letter("b", t));

    assertThat(client().deadLetters().redriveAll("a")).isEqualTo(3);

    assertThat(backend().deadLetters().count("a")).isZero();
    assertThat(backend().deadLetters().count("b")).isEqualTo(1);
    assertThat(claimNow(backend().broker(), "a", 10)).hasSize(3);
    assertThat(client().deadLetters().redriveAll(null)).isEqualTo(1);
    assertThat(claimNow(backend().broker(), "b", 10)).hasSize(1);
  }

  @Test
  default void discardAndDiscardAll() throws Exception {
    Instant t = clock().instant();
    DeadLetter one = letter("a", t);
    backend().deadLetters().add(one);
    backend().deadLetters().add(letter("a", t));
    backend().deadLetters().add(letter("b", t));
    DeadLetters deadLetters = client().deadLetters();

    assertThat(deadLetters.discard(one.id())).isTrue();
    assertThat(deadLetters.discard(one.id())).isFalse();
    assertThat(deadLetters.discardAll("a")).isEqualTo(1);
    assertThat(deadLetters.count(null)).isEqualTo(1);
    assertThat(deadLetters.discardAll(null)).isEqualTo(1);
    assertThat(deadLetters.count(null)).isZero();
    assertThat(claimNow(backend().broker(), "a", 10)).as("discarded, not sent").isEmpty();
  }

  private Client client() {
    return Client.builder(backend()).clock(clock()).build();
  }

  /** A dead letter of a failed {@code reports.build} task, whose body can be sent again. */
  private DeadLetter letter(String queue, Instant failedAt) {
    String id = newId();
    ArrayNode args = Wire.mapper().createArrayNode();
    ObjectNode kwargs = Wire.mapper().createObjectNode().put("month", "2026-01");
    Instant sentAt = failedAt.minus(Duration.ofMinutes(5));
    TaskMessage message =
        new TaskMessage(
            Wire.PLAIN_VERSION,
            id,
            "reports.build",
            args,
            kwargs,
            queue,
            7,
            null,
            null,
            3,
            sentAt,
            null,
            Map.of("requestId", "req-1"),
            MessageOptions.NONE);
    return new DeadLetter(
        id,
        "reports.build",
        queue,
        DeadLetterReason.FAILED,
        new TaskError("java.io.IOException", "disk full", "java.io.IOException: disk full\n"),
        args,
        kwargs,
        Wire.bodyText(Wire.encodeMessage(message)),
        4,
        sentAt,
        failedAt);
  }
}
