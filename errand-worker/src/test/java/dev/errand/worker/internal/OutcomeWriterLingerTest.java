package dev.errand.worker.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.spi.Settlement;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The batching writer holds a status that ends nothing (RECEIVED, STARTED) back while it is younger
 * than {@link OutcomeWriter#LINGER_NANOS}, so a quick task has only its outcome stored, and never
 * stores a status after a later one of the same task.
 */
class OutcomeWriterLingerTest {

  /** A status as the backend stored it, and when ({@link System#nanoTime()}). */
  private record Stored(TaskStatus status, long at) {}

  private final List<Stored> stored = new CopyOnWriteArrayList<>();
  private final Backend backend =
      (Backend)
          Proxy.newProxyInstance(
              Backend.class.getClassLoader(),
              new Class<?>[] {Backend.class},
              (proxy, method, args) -> {
                if (!method.getName().equals("settle")) {
                  throw new UnsupportedOperationException(method.getName());
                }
                long now = System.nanoTime();
                @SuppressWarnings("unchecked")
                List<Settlement> batch = (List<Settlement>) args[0];
                for (Settlement s : batch) {
                  for (TaskStatus status : s.statuses()) {
                    stored.add(new Stored(status, now));
                  }
                }
                return Set.of();
              });
  private final OutcomeWriter writer =
      OutcomeWriter.batching(backend, Duration.ofHours(1), new BackendHealth(), "test-writer");

  @AfterEach
  void close() {
    writer.close();
  }

  @Test
  void aStatusWhoseOutcomeFollowsWithinTheBoundIsNeverStoredWhileYoung() throws Exception {
    TaskStatus started = status("x", TaskState.STARTED);
    long submitted = System.nanoTime();
    writer.submit(Write.status(started, null));
    // a round of the writer in between: without the hold-back it would store x's STARTED now
    writeAndWait(status("other", TaskState.SUCCESS));
    writer.submit(outcome(status("x", TaskState.SUCCESS)));
    writer.awaitFlushed();

    assertThat(statesOf("x")).last().isEqualTo(TaskState.SUCCESS);
    for (Stored s : stored) {
      if (s.status().id().equals("x") && s.status().state() == TaskState.STARTED) {
        assertThat(s.at() - submitted)
            .as("x's STARTED was stored while younger than the bound")
            .isGreaterThanOrEqualTo(OutcomeWriter.LINGER_NANOS);
      }
    }
  }

  @Test
  void aStatusOfATaskStillRunningIsStoredOnceTheBoundHasPassed() {
    long submitted = System.nanoTime();
    writer.submit(Write.status(status("long", TaskState.STARTED), null));

    await().atMost(Duration.ofSeconds(10)).until(() -> !statesOf("long").isEmpty());
    assertThat(statesOf("long")).containsExactly(TaskState.STARTED);
    assertThat(stored.get(0).at() - submitted).isGreaterThanOrEqualTo(OutcomeWriter.LINGER_NANOS);
  }

  @Test
  void aHeldStatusIsReplacedByALaterOneOfItsTaskNeverStoredAfterIt() throws Exception {
    writer.submit(Write.status(status("y", TaskState.RECEIVED), null));
    writeAndWait(status("a", TaskState.SUCCESS));
    writer.submit(Write.status(status("y", TaskState.STARTED), null));
    writeAndWait(status("b", TaskState.SUCCESS));

    await().atMost(Duration.ofSeconds(10)).until(() -> statesOf("y").contains(TaskState.STARTED));
    writer.awaitFlushed();
    assertThat(statesOf("y")).last().isEqualTo(TaskState.STARTED);
  }

  @Test
  void progressReportedMoreOftenThanTheBoundIsStillStoredWhileTheTaskRuns() throws Exception {
    for (int i = 0; i < 20; i++) {
      writeAndWait(status("warm" + i, TaskState.SUCCESS)); // a writer that has run a while
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    int reports = 0;
    // each report replaces the one before within the bound: the due one must be stored anyway
    while (!statesOf("p").contains(TaskState.PROGRESS) && System.nanoTime() < deadline) {
      writer.submit(Write.status(status("p", TaskState.PROGRESS), null));
      reports++;
      // a round of the writer after every report: each one replaces the held report by this one
      writeAndWait(status("other" + reports, TaskState.SUCCESS));
    }
    assertThat(statesOf("p")).contains(TaskState.PROGRESS);
  }

  @Test
  void awaitingAFlushStoresHeldStatusesAtOnce() throws Exception {
    writer.submit(Write.status(status("z", TaskState.STARTED), null));
    writeAndWait(status("c", TaskState.SUCCESS)); // z's STARTED is held by this round

    writer.awaitFlushed();

    assertThat(statesOf("z")).containsExactly(TaskState.STARTED);
  }

  @Test
  void aBurstOfStartsIsHeldOnlyUpToTheCapSoOutcomesAreNeverKeptWaiting() throws Exception {
    int burst = OutcomeWriter.MAX_HELD + 150;
    for (int i = 0; i < burst; i++) {
      writer.submit(Write.status(status("s" + i, TaskState.STARTED), null));
    }
    writeAndWait(status("d", TaskState.SUCCESS)); // one round: it may hold the newest only

    long storedStarts =
        stored.stream().filter(s -> s.status().state() == TaskState.STARTED).count();
    assertThat(storedStarts).isGreaterThanOrEqualTo(burst - OutcomeWriter.MAX_HELD);
  }

  private List<TaskState> statesOf(String id) {
    return stored.stream()
        .filter(s -> s.status().id().equals(id))
        .map(s -> s.status().state())
        .toList();
  }

  /** Submits a write that is not a lone status (it wakes the writer) and waits until stored. */
  private void writeAndWait(TaskStatus status) throws InterruptedException {
    CountDownLatch written = new CountDownLatch(1);
    writer.submit(
        new Write(
            new Settlement(null, null, null, List.of(status), List.of(), null),
            written::countDown,
            null,
            null));
    assertThat(written.await(10, TimeUnit.SECONDS)).isTrue();
  }

  private static Write outcome(TaskStatus status) {
    return new Write(
        new Settlement(null, null, null, List.of(status), List.of(), null), () -> {}, null, null);
  }

  private static TaskStatus status(String id, TaskState state) {
    return TaskStatus.pending(id, "t", "q", Instant.EPOCH).withState(state, Instant.EPOCH);
  }
}
