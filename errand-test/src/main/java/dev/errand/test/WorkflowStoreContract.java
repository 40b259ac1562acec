package dev.errand.test;

import static dev.errand.test.ContractSupport.PATIENCE;
import static dev.errand.test.ContractSupport.TTL;
import static dev.errand.test.ContractSupport.bytes;
import static dev.errand.test.ContractSupport.claimNow;
import static dev.errand.test.ContractSupport.claimOne;
import static dev.errand.test.ContractSupport.newId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.ChordPolicy;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.spi.Settlement;
import dev.errand.spi.Settlement.ChordPart;
import dev.errand.spi.Settlement.Ending;
import dev.errand.spi.WorkflowStore;
import dev.errand.spi.WorkflowStore.Chord;
import dev.errand.spi.WorkflowStore.ChordState;
import dev.errand.spi.WorkflowStore.Firing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Groups and chords: stored membership, batched result reads, and a chord's callback enqueued by
 * the settlement that finishes its last member, exactly once (or, under {@link ChordPolicy#FAIL},
 * once more after a failed member is re-driven and succeeds).
 */
interface WorkflowStoreContract extends ContractFixture {

  private WorkflowStore workflows() {
    return backend().workflows();
  }

  private String chord(int size, ChordPolicy policy) {
    String id = newId();
    workflows().putChord(new Chord(id, size, policy, callback(id)), TTL);
    return id;
  }

  /** The callback message of a chord: its id is derived from the chord's, so tests can find it. */
  private static NewMessage callback(String chordId) {
    return new NewMessage("cb-" + chordId, "callbacks", 5, bytes("callback"), null, null, null);
  }

  /** Runs member {@code index} of {@code chordId} to {@code state}: enqueue, claim, settle. */
  private void finish(String chordId, int index, TaskState state) throws Exception {
    Broker broker = backend().broker();
    String id = chordId + "-" + index;
    String queue = "members-" + index % 4;
    broker.enqueue(List.of(new NewMessage(id, queue, 5, bytes("m" + index), null, null, null)));
    Delivery d = claimOne(broker, queue);
    assertThat(settle(d, state, chordId, index)).isEmpty();
  }

  private java.util.Set<String> settle(Delivery d, TaskState state, String chordId, int index) {
    TaskStatus status = TestStatuses.status(d.id(), "m", state, d.queue(), clock().instant());
    return backend()
        .settle(
            List.of(
                new Settlement(
                    d,
                    Ending.ACK,
                    null,
                    List.of(status),
                    List.of(),
                    new ChordPart(chordId, index, state != TaskState.SUCCESS))),
            TTL);
  }

  private ChordState state(String chordId) {
    return workflows().chord(chordId).orElseThrow();
  }

  private long callbacksReady() {
    return backend().broker().stats("callbacks").ready();
  }

  @Test
  default void groupMembersAreStoredInOrderAndExpire() {
    String group = newId();
    List<String> members = List.of("c", "a", "b");
    workflows().putGroup(group, members, Duration.ofMinutes(5));

    assertThat(workflows().group(group)).contains(members);
    assertThat(workflows().group("unknown")).isEmpty();
    clock().advance(Duration.ofMinutes(6));
    assertThat(workflows().group(group)).isEmpty();
  }

  @Test
  default void storedStepsAreReadBackWholeAndExpire() {
    byte[] steps = new byte[100_000];
    for (int i = 0; i < steps.length; i++) {
      steps[i] = (byte) ('a' + i % 26);
    }
    String id = newId();
    workflows().putSteps(id, steps, Duration.ofMinutes(5));

    assertThat(workflows().steps(id)).get().isEqualTo(steps);
    assertThat(workflows().steps("unknown")).isEmpty();
    clock().advance(Duration.ofMinutes(6));
    assertThat(workflows().steps(id)).isEmpty();
  }

  @Test
  default void resultsOfALargeGroupAreReadInOneCall() {
    List<TaskStatus> statuses = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 1_200; i++) {
      String id = "member-" + i;
      ids.add(id);
      if (i % 7 != 3) {
        statuses.add(TestStatuses.status(id, "m", TaskState.SUCCESS, "q", clock().instant()));
      }
    }
    backend().results().putAll(statuses, TTL);
    Collections.reverse(ids);

    Map<String, TaskStatus> read = backend().results().getAll(ids);

    assertThat(read).hasSize(statuses.size());
    assertThat(new ArrayList<>(read.keySet()))
        .as("in the order asked")
        .containsExactlyElementsOf(ids.stream().filter(read::containsKey).toList());
    assertThat(read.get("member-0").state()).isEqualTo(TaskState.SUCCESS);
    assertThat(read).doesNotContainKey("member-3");
  }

  @Test
  default void callbackIsEnqueuedOnceWhenTheLastMemberFinishes() throws Exception {
    String chord = chord(3, ChordPolicy.FAIL);
    assertThat(state(chord).firing()).isEqualTo(Firing.NOT_YET);

    finish(chord, 2, TaskState.SUCCESS);
    finish(chord, 0, TaskState.SUCCESS);
    assertThat(callbacksReady()).isZero();
    assertThat(state(chord).finished()).isEqualTo(2);

    finish(chord, 1, TaskState.SUCCESS);

    assertThat(callbacksReady()).isEqualTo(1);
    assertThat(claimOne(backend().broker(), "callbacks").id()).isEqualTo("cb-" + chord);
    ChordState s = state(chord);
    assertThat(s.finished()).isEqualTo(3);
    assertThat(s.failed()).isZero();
    assertThat(s.firing()).isEqualTo(Firing.ALL_SUCCEEDED);
  }

  @Test
  default void memberSettledAgainDoesNotCountTwice() throws Exception {
    String chord = chord(2, ChordPolicy.FAIL);

    finish(chord, 0, TaskState.SUCCESS);
    finish(chord, 0, TaskState.SUCCESS); // the same member again: a re-drive, a re-run

    assertThat(state(chord).finished()).isEqualTo(1);
    assertThat(callbacksReady()).isZero();
    finish(chord, 1, TaskState.SUCCESS);
    assertThat(callbacksReady()).isEqualTo(1);
    finish(chord, 1, TaskState.SUCCESS);
    claimOne(backend().broker(), "callbacks");
    assertThat(claimNow(backend().broker(), "callbacks", 1)).as("never twice").isEmpty();
  }

  @Test
  default void failPolicyFiresWithFailuresThenOnceMoreWhenAReDriveSucceeds() throws Exception {
    String chord = chord(2, ChordPolicy.FAIL);

    finish(chord, 0, TaskState.SUCCESS);
    finish(chord, 1, TaskState.FAILURE);
    assertThat(state(chord).firing()).isEqualTo(Firing.WITH_FAILURES);
    assertThat(state(chord).failed()).isEqualTo(1);
    // Its worker fails it with the member's error and acks it.
    assertThat(backend().broker().ack(claimOne(backend().broker(), "callbacks"))).isTrue();

    finish(chord, 1, TaskState.SUCCESS); // re-driven from the dead letters, it succeeds

    assertThat(state(chord).failed()).isZero();
    assertThat(state(chord).firing()).isEqualTo(Firing.ALL_SUCCEEDED);
    assertThat(claimOne(backend().broker(), "callbacks").id()).isEqualTo("cb-" + chord);
    finish(chord, 1, TaskState.SUCCESS);
    finish(chord, 0, TaskState.SUCCESS);
    assertThat(callbacksReady()).as("at most once with none failed").isZero();
  }

  @Test
  default void runWithFailuresFiresOnceWhateverHappensLater() throws Exception {
    String chord = chord(2, ChordPolicy.RUN_WITH_FAILURES);

    finish(chord, 0, TaskState.FAILURE);
    finish(chord, 1, TaskState.SUCCESS);
    assertThat(callbacksReady()).isEqualTo(1);
    assertThat(state(chord).firing()).isEqualTo(Firing.WITH_FAILURES);

    finish(chord, 0, TaskState.SUCCESS);

    assertThat(callbacksReady()).isEqualTo(1);
    assertThat(state(chord).failed()).isZero();
  }

  @Test
  default void refiringWhileTheCallbackIsStillQueuedDoesNotQueueItTwice() throws Exception {
    String chord = chord(1, ChordPolicy.FAIL);

    finish(chord, 0, TaskState.FAILURE);
    finish(chord, 0, TaskState.SUCCESS);

    assertThat(callbacksReady()).isEqualTo(1);
  }

  @Test
  default void partOutsideTheChordIsNotCounted() throws Exception {
    String chord = chord(2, ChordPolicy.FAIL);

    finish(chord, 0, TaskState.SUCCESS);
    finish(chord, 7, TaskState.SUCCESS);

    assertThat(state(chord).finished()).isEqualTo(1);
    assertThat(callbacksReady()).isZero();
  }

  @Test
  default void partsRecordedBeforeTheChordIsStoredCount() throws Exception {
    String chord = newId();
    finish(chord, 0, TaskState.SUCCESS);
    finish(chord, 1, TaskState.FAILURE);
    assertThat(workflows().chord(chord)).isEmpty();

    workflows().putChord(new Chord(chord, 3, ChordPolicy.RUN_WITH_FAILURES, callback(chord)), TTL);
    assertThat(state(chord).finished()).isEqualTo(2);
    assertThat(state(chord).failed()).isEqualTo(1);
    finish(chord, 2, TaskState.SUCCESS);

    assertThat(callbacksReady()).isEqualTo(1);
  }

  @Test
  default void storingAChordAgainKeepsItsParts() throws Exception {
    String chord = chord(2, ChordPolicy.FAIL);
    finish(chord, 0, TaskState.SUCCESS);

    workflows().putChord(new Chord(chord, 2, ChordPolicy.FAIL, callback(chord)), TTL);

    assertThat(state(chord).finished()).isEqualTo(1);
  }

  @Test
  default void concurrentMembersFireTheCallbackExactlyOnce() throws Exception {
    int size = 300;
    String chord = chord(size, ChordPolicy.FAIL);
    Broker broker = backend().broker();
    List<NewMessage> members = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      members.add(new NewMessage(chord + "-" + i, "members", 5, bytes("" + i), null, null, null));
    }
    broker.enqueue(members);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        done.add(
            pool.submit(
                () -> {
                  List<Delivery> batch;
                  while (!(batch = claimNow(broker, "members", 5)).isEmpty()) {
                    for (Delivery d : batch) {
                      int index = Integer.parseInt(d.id().substring(chord.length() + 1));
                      assertThat(settle(d, TaskState.SUCCESS, chord, index)).isEmpty();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(PATIENCE.toMillis() * 3, TimeUnit.MILLISECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(state(chord).finished()).isEqualTo(size);
    assertThat(callbacksReady()).isEqualTo(1);
  }
}
