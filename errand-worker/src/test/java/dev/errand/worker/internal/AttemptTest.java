package dev.errand.worker.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.TaskDef;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.spi.Delivery;
import dev.errand.wire.TaskMessage;
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.internal.Attempt.Cancellation;
import dev.errand.worker.internal.Attempt.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The attempt's state machine on its own: who may move it where, and the bookkeeping it runs. */
class AttemptTest {

  private static final TaskDef<String, String> ECHO =
      TaskDef.of("t.echo", String.class, String.class);
  private static final Clock CLOCK = Clock.systemUTC();

  private final RecordingHooks hooks = new RecordingHooks();

  @AfterEach
  void clearInterrupt() {
    Thread.interrupted();
  }

  @Test
  void theSlotSettlesAndFreesItsPlaceWhenTheOutcomeIsHandedOver() {
    Attempt a = attempt();
    assertThat(start(a)).isTrue();
    assertThat(a.state()).isEqualTo(State.STARTED);
    assertThat(a.startedAt()).isNotNull();

    assertThat(a.settle()).isTrue();
    assertThat(a.settle()).as("claimed once").isFalse();
    assertThat(a.isSettled()).isTrue();
    assertThat(hooks.submittedCount(a)).as("not handed over yet").isZero();

    a.handedOver();
    a.handedOver();
    assertThat(a.state()).isEqualTo(State.SETTLED);
    assertThat(hooks.submittedCount(a)).isEqualTo(1);
    assertThat(a.leaveSlot()).as("the slot keeps its thread").isTrue();
    assertThat(hooks.writtenCount(a)).as("the writer is not done yet").isZero();

    a.written();
    assertThat(hooks.writtenCount(a)).isEqualTo(1);
  }

  @Test
  void theTimerTakesAnAttemptAtItsHardLimitAndItsThreadLeavesTheSlots() {
    Attempt a = attempt();
    start(a);

    assertThat(a.abandon()).isTrue();
    assertThat(a.abandon()).isFalse();
    assertThat(hooks.submittedCount(a)).as("its place goes to a new thread at once").isEqualTo(1);
    assertThat(a.settle()).as("the handler's late outcome is discarded").isFalse();
    a.handedOver(); // the timer hands over its outcome: nothing more to free
    assertThat(hooks.submittedCount(a)).isEqualTo(1);
    assertThat(a.state()).isEqualTo(State.ABANDONED);
    assertThat(a.leaveSlot()).isFalse();
  }

  @Test
  void aRetryHeldForAStuckThreadIsReleasedOnceAndKeptUntilWritten() {
    Attempt a = attempt();
    start(a);
    a.abandon();
    Attempt.HeldRetry retry =
        new Attempt.HeldRetry(TaskError.of("Boom", "boom"), Instant.now(), Duration.ofSeconds(1));

    a.hold(retry);
    assertThat(a.state()).isEqualTo(State.HELD);
    assertThat(a.heldRetry()).isEqualTo(retry);
    assertThat(a.isSettled()).isTrue();

    assertThat(a.releaseHeld()).isTrue();
    assertThat(a.releaseHeld()).as("sent once").isFalse();
    assertThat(a.state()).isEqualTo(State.ABANDONED);
    assertThat(a.hasHeldRetry()).as("listed until its write is done").isTrue();
    assertThat(hooks.submittedCount(a)).isEqualTo(1);
  }

  @Test
  void anAttemptTheShutdownHandedBackNeverStarts() {
    Attempt a = attempt();

    assertThat(a.handBack()).isTrue();
    assertThat(a.handBack()).isFalse();
    assertThat(hooks.submittedCount(a)).isEqualTo(1);
    assertThat(start(a)).isFalse();
    assertThat(a.leaveSlot()).isFalse();
  }

  @Test
  void theShutdownHandsBackARunningAttemptUnlessItsOutcomeIsClaimed() {
    Attempt running = attempt();
    start(running);
    assertThat(running.handBack()).isTrue();
    assertThat(running.settle()).isFalse();
    assertThat(running.leaveSlot()).isFalse();

    Attempt settled = attempt();
    start(settled);
    settled.settle();
    assertThat(settled.handBack()).isFalse();
    assertThat(settled.state()).isEqualTo(State.SETTLING);
  }

  @Test
  void anAttemptThatHandedNothingToTheWriterIsDroppedWhenItsSlotLeavesIt() {
    Attempt failedBeforeSettling = attempt();
    start(failedBeforeSettling);
    assertThat(failedBeforeSettling.leaveSlot()).isTrue();
    assertThat(failedBeforeSettling.state()).isEqualTo(State.DROPPED);
    assertThat(failedBeforeSettling.abandon()).as("the timer leaves it alone").isFalse();

    Attempt failedWhileSettling = attempt();
    start(failedWhileSettling);
    failedWhileSettling.settle();
    assertThat(failedWhileSettling.leaveSlot()).isTrue();
    assertThat(failedWhileSettling.state()).isEqualTo(State.DROPPED);

    for (Attempt a : List.of(failedBeforeSettling, failedWhileSettling)) {
      assertThat(hooks.submittedCount(a)).isEqualTo(1);
      assertThat(hooks.writtenCount(a)).isEqualTo(1);
    }
  }

  @Test
  void aPrefetchedAttemptWhoseLeaseWasLostIsDroppedOnce() {
    Attempt a = attempt();
    a.drop();
    a.drop();
    assertThat(a.state()).isEqualTo(State.DROPPED);
    assertThat(hooks.submittedCount(a)).isEqualTo(1);
    assertThat(hooks.writtenCount(a)).isEqualTo(1);
    assertThat(start(a)).isFalse();
  }

  @Test
  void cancellationsAreKeptApartAndInterruptOnlyAHandlerStillRunning() {
    Attempt a = attempt();
    a.cancel(Cancellation.REVOKED); // prefetched: nothing to interrupt
    assertThat(a.cancelled(Cancellation.REVOKED)).isTrue();
    assertThat(a.cancelled(Cancellation.SOFT_LIMIT)).isFalse();
    assertThat(a.isCancelled()).isTrue();

    start(a); // on this thread
    a.cancel(Cancellation.SOFT_LIMIT);
    assertThat(Thread.interrupted()).isTrue();
    assertThat(a.cancelled(Cancellation.SOFT_LIMIT)).isTrue();
    assertThat(a.cancelled(Cancellation.SHUTDOWN)).isFalse();

    a.settle();
    a.cancel(Cancellation.SHUTDOWN);
    assertThat(Thread.interrupted()).as("settled: the thread may already run another").isFalse();
    assertThat(a.cancelled(Cancellation.SHUTDOWN)).isTrue();
  }

  @Test
  void exactlyOneOfTheSlotAndTheTimerClaimsTheOutcome() throws Exception {
    int rounds = 2_000;
    List<Attempt> attempts = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      Attempt a = attempt();
      start(a);
      attempts.add(a);
    }
    AtomicInteger slotWins = new AtomicInteger();
    AtomicInteger timerWins = new AtomicInteger();
    CyclicBarrier together = new CyclicBarrier(2);
    Thread slot =
        new Thread(
            () -> {
              for (Attempt a : attempts) {
                await(together);
                if (a.settle()) {
                  slotWins.incrementAndGet();
                }
              }
            });
    Thread timer =
        new Thread(
            () -> {
              for (Attempt a : attempts) {
                await(together);
                if (a.abandon()) {
                  timerWins.incrementAndGet();
                }
              }
            });
    slot.start();
    timer.start();
    slot.join();
    timer.join();

    assertThat(slotWins.get() + timerWins.get()).isEqualTo(rounds);
    for (Attempt a : attempts) {
      assertThat(a.state()).isIn(State.SETTLING, State.ABANDONED);
      assertThat(hooks.submittedCount(a)).isEqualTo(a.state() == State.ABANDONED ? 1 : 0);
    }
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private boolean start(Attempt a) {
    return a.start(
        new DefaultTaskContext(a, null, CLOCK, null), CLOCK.instant(), System.nanoTime());
  }

  private Attempt attempt() {
    String id = java.util.UUID.randomUUID().toString();
    TaskMessage m =
        new TaskMessage(
            1, id, ECHO.name(), null, null, "q", 0, null, null, 0, Instant.now(), null, null, null);
    Delivery d = new Delivery(id, "q", 0, new byte[0], 1, "r-" + id, Instant.now().plusSeconds(30));
    TaskOptions options = TaskOptions.builder().hardTimeLimit(Duration.ofSeconds(5)).build();
    return new Attempt(
        d, m, new TaskRegistry.Registration<>(ECHO, (arg, ctx) -> arg), options, null, "w", hooks);
  }

  /** Counts the bookkeeping calls per attempt. */
  private static final class RecordingHooks implements Attempt.Hooks {
    private final ConcurrentHashMap<Attempt, AtomicInteger> submitted = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Attempt, AtomicInteger> written = new ConcurrentHashMap<>();

    @Override
    public void submitted(Attempt a) {
      submitted.computeIfAbsent(a, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void written(Attempt a) {
      written.computeIfAbsent(a, k -> new AtomicInteger()).incrementAndGet();
    }

    int submittedCount(Attempt a) {
      AtomicInteger n = submitted.get(a);
      return n == null ? 0 : n.get();
    }

    int writtenCount(Attempt a) {
      AtomicInteger n = written.get(a);
      return n == null ? 0 : n.get();
    }
  }
}
