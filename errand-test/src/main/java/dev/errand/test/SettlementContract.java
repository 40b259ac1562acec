package dev.errand.test;

import static dev.errand.test.ContractSupport.LEASE;
import static dev.errand.test.ContractSupport.TTL;
import static dev.errand.test.ContractSupport.bytes;
import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.claimOne;
import static dev.errand.test.ContractSupport.label;
import static dev.errand.test.ContractSupport.message;
import static dev.errand.test.ContractSupport.newId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.BackendException;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import dev.errand.spi.SettleFaults;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.Settlement.Ending;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link dev.errand.spi.Backend#settle}: each part of a settlement, the receipt check that guards
 * them all, and all-or-nothing under a failure injected after each step ({@link SettleFaults}).
 */
interface SettlementContract extends ContractFixture {

  private TaskStatus status(Delivery d, TaskState state) {
    return TestStatuses.status(d.id(), "t", state, d.queue(), clock().instant());
  }

  private Set<String> settle(Settlement... batch) {
    return backend().settle(List.of(batch), TTL);
  }

  private static Settlement ack(Delivery d, TaskStatus status, NewMessage... followUps) {
    return new Settlement(d, Ending.ACK, null, List.of(status), List.of(followUps), null);
  }

  private static Settlement chordPart(Delivery d, TaskStatus status, String chord, int i) {
    boolean failed = status.state() != TaskState.SUCCESS;
    return new Settlement(
        d, Ending.ACK, null, List.of(status), List.of(), new ChordPart(chord, i, failed));
  }

  private DeadLetter deadLetter(Delivery d) {
    return new DeadLetter(
        d.id(),
        "t",
        d.queue(),
        DeadLetterReason.FAILED,
        TaskError.of("Boom", "it broke"),
        null,
        null,
        label(d),
        3,
        null,
        clock().instant());
  }

  private QueueStats stats(String queue) {
    return backend().broker().stats(queue);
  }

  private long total(String queue) {
    QueueStats s = stats(queue);
    return s.ready() + s.leased() + s.delayed();
  }

  @Test
  default void ackStoresTheStatusEndsTheDeliveryAndEnqueuesTheFollowUps() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "step-1")));
    Delivery d = claimOne(broker, "q");
    CompletableFuture<TaskStatus> waiter = backend().results().whenReady(d.id());
    NewMessage next = message("other", "step-2");

    assertThat(settle(ack(d, status(d, TaskState.SUCCESS), next))).isEmpty();

    assertThat(backend().results().get(d.id()))
        .get()
        .extracting(TaskStatus::state)
        .isEqualTo(TaskState.SUCCESS);
    assertThat(waiter.get(10, TimeUnit.SECONDS).state()).isEqualTo(TaskState.SUCCESS);
    assertThat(total("q")).as("the step's message is gone").isZero();
    Delivery second = claimOne(broker, "other");
    assertThat(second.id()).isEqualTo(next.id());
    assertThat(label(second)).isEqualTo("step-2");
    assertThat(broker.ack(d)).as("the old receipt is spent").isFalse();
  }

  @Test
  default void staleReceiptAppliesNothing() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "job")));
    Delivery lost = claimOne(broker, "q");
    String chord = newId();
    backend()
        .workflows()
        .putChord(
            new dev.errand.spi.WorkflowStore.Chord(
                chord, 1, dev.errand.ChordPolicy.FAIL, message("cb", "callback")),
            TTL);
    clock().advance(LEASE.plusSeconds(1));
    Delivery current = claimOne(broker, "q");

    Settlement late =
        new Settlement(
            lost,
            Ending.ACK,
            deadLetter(lost),
            List.of(status(lost, TaskState.SUCCESS)),
            List.of(message("next", "follow-up")),
            new ChordPart(chord, 0, false));
    assertThat(settle(late)).containsExactly(lost.id());

    assertThat(backend().results().get(lost.id())).isEmpty();
    assertThat(backend().deadLetters().get(lost.id())).isEmpty();
    assertThat(claimNow(broker, "next", 1)).isEmpty();
    assertThat(claimNow(broker, "cb", 1)).isEmpty();
    assertThat(backend().workflows().chord(chord).orElseThrow().finished()).isZero();
    assertThat(broker.renew(List.of(current), LEASE)).as("the new lease is intact").isEmpty();
  }

  @Test
  default void keepStoresAStatusOnlyWhileTheLeaseIsCurrentAndEndsNothing() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "job")));
    Delivery first = claimOne(broker, "q");
    Settlement started =
        new Settlement(
            first, Ending.KEEP, null, List.of(status(first, TaskState.STARTED)), List.of(), null);

    assertThat(settle(started)).isEmpty();
    assertThat(backend().results().get(first.id()).orElseThrow().state())
        .isEqualTo(TaskState.STARTED);
    assertThat(broker.renew(List.of(first), LEASE)).as("still leased").isEmpty();

    // The lease runs out; another consumer finishes the task. The first attempt wakes up late:
    // its progress must not undo the outcome that was stored.
    clock().advance(LEASE.plusSeconds(31));
    Delivery second = claimOne(broker, "q");
    assertThat(settle(ack(second, status(second, TaskState.SUCCESS)))).isEmpty();
    Settlement late =
        new Settlement(
            first, Ending.KEEP, null, List.of(status(first, TaskState.PROGRESS)), List.of(), null);

    assertThat(settle(late)).containsExactly(first.id());
    assertThat(backend().results().get(first.id()).orElseThrow().state())
        .isEqualTo(TaskState.SUCCESS);
  }

  @Test
  default void keepThenAckOfTheSameDeliveryInOneBatchBothApply() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "quick")));
    Delivery d = claimOne(broker, "q");

    assertThat(
            settle(
                new Settlement(
                    d, Ending.KEEP, null, List.of(status(d, TaskState.STARTED)), List.of(), null),
                ack(d, status(d, TaskState.SUCCESS), message("next", "follow-up"))))
        .isEmpty();

    assertThat(backend().results().get(d.id()).orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
    assertThat(total("q")).isZero();
    assertThat(stats("next").ready()).isEqualTo(1);
  }

  @Test
  default void retryReplacesTheBodyAndDeliversAgainAtItsTime() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "try-1")));
    Delivery d = claimOne(broker, "q");
    Instant eta = clock().instant().plusSeconds(10);

    Settlement retry =
        new Settlement(
            d,
            new Ending.Retry(bytes("try-2"), eta),
            null,
            List.of(status(d, TaskState.RETRY)),
            List.of(),
            null);
    assertThat(settle(retry)).isEmpty();

    assertThat(backend().results().get(d.id()).orElseThrow().state()).isEqualTo(TaskState.RETRY);
    assertThat(claimNow(broker, "q", 1)).as("not before its eta").isEmpty();
    clock().advance(Duration.ofSeconds(11));
    Delivery again = claimOne(broker, "q");
    assertThat(label(again)).isEqualTo("try-2");
    assertThat(again.deliveries()).isEqualTo(1);
  }

  @Test
  default void releaseHandsTheMessageBackInItsPlace() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "a"), message("q", "b")));
    Delivery a = claimOne(broker, "q");

    Settlement release = new Settlement(a, Ending.RELEASE, null, List.of(), List.of(), null);
    assertThat(settle(release)).isEmpty();

    Delivery again = claimOne(broker, "q");
    assertThat(label(again)).isEqualTo("a");
    assertThat(again.deliveries()).as("the release took back its delivery count").isEqualTo(1);
  }

  @Test
  default void deadLetterAndFailureAreStoredTogether() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "doomed")));
    Delivery d = claimOne(broker, "q");
    DeadLetter dl = deadLetter(d);

    Settlement failure =
        new Settlement(d, Ending.ACK, dl, List.of(status(d, TaskState.FAILURE)), List.of(), null);
    assertThat(settle(failure)).isEmpty();

    assertThat(backend().deadLetters().get(d.id()))
        .get()
        .extracting(DeadLetter::reason)
        .isEqualTo(DeadLetterReason.FAILED);
    assertThat(backend().results().get(d.id()).orElseThrow().state()).isEqualTo(TaskState.FAILURE);
    assertThat(total("q")).isZero();
  }

  @Test
  default void severalStatusesAreStoredInOrder() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "step")));
    Delivery d = claimOne(broker, "q");
    String chainId = newId();
    TaskStatus chainFailed =
        TestStatuses.status(chainId, "last", TaskState.FAILURE, "q", clock().instant());

    assertThat(
            settle(
                new Settlement(
                    d,
                    Ending.ACK,
                    null,
                    List.of(status(d, TaskState.FAILURE), chainFailed),
                    List.of(),
                    null)))
        .isEmpty();

    assertThat(backend().results().getAll(List.of(d.id(), chainId, "unknown")))
        .containsOnlyKeys(d.id(), chainId);
  }

  @Test
  default void delayedFollowUpWaitsForItsTime() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "step")));
    Delivery d = claimOne(broker, "q");
    NewMessage later =
        new NewMessage(
            newId(), "q2", 5, bytes("later"), clock().instant().plusSeconds(30), null, null);

    settle(ack(d, status(d, TaskState.SUCCESS), later));

    assertThat(claimNow(broker, "q2", 1)).isEmpty();
    clock().advance(Duration.ofSeconds(31));
    assertThat(label(claimOne(broker, "q2"))).isEqualTo("later");
  }

  @Test
  default void followUpWhoseIdIsQueuedAlreadyIsNotEnqueuedTwice() throws Exception {
    Broker broker = backend().broker();
    NewMessage next = message("q2", "next");
    broker.enqueue(List.of(message("q", "a"), message("q", "b"), next));
    Delivery a = claimOne(broker, "q");

    settle(ack(a, status(a, TaskState.SUCCESS), next));

    assertThat(stats("q2").ready()).isEqualTo(1);
  }

  @Test
  default void settlementWithoutADeliveryIsAppliedWhole() throws Exception {
    // A task that acked early: its delivery is gone; the outcome still advances the workflow.
    String id = newId();
    NewMessage next = message("q2", "next");
    TaskStatus done = TestStatuses.status(id, "t", TaskState.SUCCESS, "q", clock().instant());

    assertThat(settle(new Settlement(null, null, null, List.of(done), List.of(next), null)))
        .isEmpty();

    assertThat(backend().results().get(id)).isPresent();
    assertThat(claimOne(backend().broker(), "q2").id()).isEqualTo(next.id());
  }

  @Test
  default void batchAppliesEachSettlementOnItsOwn() throws Exception {
    Broker broker = backend().broker();
    broker.enqueue(List.of(message("q", "a"), message("q", "b"), message("q", "c")));
    List<Delivery> ds = claimNow(broker, "q", 3);
    Delivery stale = ds.get(1);
    broker.release(stale); // its receipt is now spent

    Set<String> staleIds =
        settle(
            ack(ds.get(0), status(ds.get(0), TaskState.SUCCESS), message("n", "after-a")),
            ack(stale, status(stale, TaskState.SUCCESS), message("n", "after-b")),
            ack(ds.get(2), status(ds.get(2), TaskState.SUCCESS), message("n", "after-c")));

    assertThat(staleIds).containsExactly(stale.id());
    assertThat(backend().results().get(stale.id())).isEmpty();
    assertThat(backend().results().getAll(List.of(ds.get(0).id(), ds.get(2).id()))).hasSize(2);
    List<String> next = new ArrayList<>();
    for (Delivery n : claimNow(broker, "n", 10)) {
      next.add(label(n));
    }
    assertThat(next).containsExactly("after-a", "after-c");
    assertThat(label(claimOne(broker, "q"))).isEqualTo("b");
  }

  @Test
  default void failureAfterTheReceiptCheckAppliesNothing() throws Exception {
    failureAfter(Settlement.Step.RECEIPT_CHECKED);
  }

  @Test
  default void failureAfterTheDeadLetterAppliesNothing() throws Exception {
    failureAfter(Settlement.Step.DEAD_LETTER);
  }

  @Test
  default void failureAfterTheStatusesAppliesNothing() throws Exception {
    failureAfter(Settlement.Step.STATUSES);
  }

  @Test
  default void failureAfterTheEndingAppliesNothing() throws Exception {
    failureAfter(Settlement.Step.ENDING);
  }

  @Test
  default void failureAfterTheFollowUpsAppliesNothing() throws Exception {
    failureAfter(Settlement.Step.FOLLOW_UPS);
  }

  @Test
  default void failureAfterTheChordPartAppliesNothing() throws Exception {
    failureAfter(Settlement.Step.CHORD_PART);
  }

  private void failureAfter(Settlement.Step step) throws Exception {
    assertThat(backend())
        .as("every backend offers the fault hook")
        .isInstanceOf(SettleFaults.class);
    Broker broker = backend().broker();
    String chord = newId();
    backend()
        .workflows()
        .putChord(
            new dev.errand.spi.WorkflowStore.Chord(
                chord, 1, dev.errand.ChordPolicy.FAIL, message("cb", "callback")),
            TTL);
    broker.enqueue(List.of(message("q", "member")));
    Delivery d = claimOne(broker, "q");
    Settlement everything =
        new Settlement(
            d,
            Ending.ACK,
            deadLetter(d),
            List.of(status(d, TaskState.SUCCESS)),
            List.of(message("next", "follow-up")),
            new ChordPart(chord, 0, false));

    ((SettleFaults) backend()).failNextSettleAfter(step);
    assertThatThrownBy(() -> settle(everything)).isInstanceOf(BackendException.class);

    assertThat(backend().deadLetters().get(d.id())).as("dead letter").isEmpty();
    assertThat(backend().results().get(d.id())).as("status").isEmpty();
    assertThat(broker.renew(List.of(d), LEASE)).as("the delivery is still leased").isEmpty();
    assertThat(claimNow(broker, "next", 1)).as("follow-up").isEmpty();
    assertThat(backend().workflows().chord(chord).orElseThrow().finished()).as("chord").isZero();
    assertThat(claimNow(broker, "cb", 1)).as("callback").isEmpty();

    // The writer tries again: now it all lands, once.
    assertThat(settle(everything)).isEmpty();
    assertThat(backend().deadLetters().get(d.id())).isPresent();
    assertThat(backend().results().get(d.id())).isPresent();
    assertThat(claimNow(broker, "next", 1)).hasSize(1);
    assertThat(claimNow(broker, "cb", 1)).hasSize(1);
    assertThat(total("q")).isZero();
  }

  @Test
  default void lostReplyAfterCommitIsAppliedOnceWhenTriedAgain() throws Exception {
    Broker broker = backend().broker();
    String chord = newId();
    backend()
        .workflows()
        .putChord(
            new dev.errand.spi.WorkflowStore.Chord(
                chord, 1, dev.errand.ChordPolicy.FAIL, message("cb", "callback")),
            TTL);
    broker.enqueue(List.of(message("q", "member")));
    Delivery d = claimOne(broker, "q");
    Settlement s =
        new Settlement(
            d,
            Ending.ACK,
            null,
            List.of(status(d, TaskState.SUCCESS)),
            List.of(message("next", "follow-up")),
            new ChordPart(chord, 0, false));

    ((SettleFaults) backend()).failNextSettleAfter(Settlement.Step.COMMITTED);
    assertThatThrownBy(() -> settle(s)).isInstanceOf(BackendException.class);
    assertThat(settle(s)).as("the second try finds its receipt spent").containsExactly(d.id());

    assertThat(stats("next").ready()).isEqualTo(1);
    assertThat(stats("cb").ready()).isEqualTo(1);
    assertThat(backend().workflows().chord(chord).orElseThrow().finished()).isEqualTo(1);
  }
}
