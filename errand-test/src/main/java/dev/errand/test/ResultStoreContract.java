package dev.errand.test;

import static dev.errand.test.ContractSupport.PATIENCE;
import static dev.errand.test.ContractSupport.TTL;
import static dev.errand.test.ContractSupport.newId;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.ResultStore;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Task states with expiry, waiting for ready states, revocations and once-claims. */
interface ResultStoreContract extends ContractFixture {

  @Test
  default void putGetAndExpiry() {
    ResultStore results = backend().results();
    TaskStatus done = fullStatus(newId(), TaskState.SUCCESS);

    results.put(done, TTL);

    assertThat(results.get(done.id())).contains(done);
    clock().advance(TTL.minusMinutes(1));
    assertThat(results.get(done.id())).contains(done);
    clock().advance(Duration.ofMinutes(2));
    assertThat(results.get(done.id())).isEmpty();
    assertThat(results.get(newId())).as("never stored").isEmpty();
  }

  @Test
  default void statusKeepsEveryField() {
    ResultStore results = backend().results();
    Instant t = clock().instant();
    TaskStatus failed =
        new TaskStatus(
            newId(),
            "reports.build",
            TaskState.FAILURE,
            "reports",
            null,
            new TaskError("java.io.IOException", "disk full", "java.io.IOException: disk full\n"),
            null,
            null,
            3,
            "errand@host:1:1",
            t,
            t.plusSeconds(1),
            t.plusSeconds(2),
            t.plusSeconds(60),
            t.plusSeconds(2));

    results.put(failed, TTL);

    assertThat(results.get(failed.id())).contains(failed);
  }

  @Test
  default void outcomesAreReadAsGetAllReadsThemInTheOrderAsked() {
    ResultStore results = backend().results();
    Instant t = clock().instant();
    TaskStatus ok = fullStatus(newId(), TaskState.SUCCESS);
    TaskStatus failed =
        new TaskStatus(
            newId(),
            "reports.build",
            TaskState.FAILURE,
            "reports",
            null,
            new TaskError("java.io.IOException", "disk full", "java.io.IOException: disk full\n"),
            null,
            null,
            3,
            "errand@host:1:1",
            t,
            t.plusSeconds(1),
            t.plusSeconds(2),
            null,
            t.plusSeconds(2));
    TaskStatus revoked =
        TaskStatus.pending(newId(), "emails.send", "mail", t)
            .withState(TaskState.REVOKED, t)
            .withReason("by the operator");
    TaskStatus expired = fullStatus(newId(), TaskState.SUCCESS);
    results.putAll(List.of(ok, failed, revoked), TTL);
    results.put(expired, Duration.ofMinutes(1));
    clock().advance(Duration.ofMinutes(2));

    List<String> asked = List.of(revoked.id(), "never-stored", expired.id(), ok.id(), failed.id());
    var outcomes = results.getOutcomes(asked);
    var all = results.getAll(asked);

    assertThat(new ArrayList<>(outcomes.keySet()))
        .containsExactly(revoked.id(), ok.id(), failed.id());
    for (String id : outcomes.keySet()) {
      TaskStatus o = outcomes.get(id);
      TaskStatus full = all.get(id);
      assertThat(o.id()).isEqualTo(full.id());
      assertThat(o.name()).isEqualTo(full.name());
      assertThat(o.state()).isEqualTo(full.state());
      assertThat(o.result()).isEqualTo(full.result());
      assertThat(o.error()).isEqualTo(full.error());
      assertThat(o.reason()).isEqualTo(full.reason());
    }
    assertThat(outcomes.get(failed.id()).error().message()).isEqualTo("disk full");
    assertThat(outcomes.get(revoked.id()).reason()).isEqualTo("by the operator");
    assertThat(outcomes.get(ok.id()).result()).isEqualTo(ok.result());
  }

  @Test
  default void putReplacesAndPutAllStoresEach() {
    ResultStore results = backend().results();
    String id = newId();
    results.put(status(id, TaskState.STARTED), TTL);
    results.put(status(id, TaskState.RETRY), TTL);
    assertThat(results.get(id)).map(TaskStatus::state).contains(TaskState.RETRY);

    TaskStatus a = status(newId(), TaskState.RECEIVED);
    TaskStatus b = status(newId(), TaskState.SUCCESS);
    results.putAll(List.of(a, b), TTL);

    assertThat(results.get(a.id())).contains(a);
    assertThat(results.get(b.id())).contains(b);
  }

  @Test
  default void whenReadyCompletesOnReadyState() throws Exception {
    ResultStore results = backend().results();
    for (TaskState ready : List.of(TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED)) {
      String id = newId();
      CompletableFuture<TaskStatus> future = results.whenReady(id);
      results.put(status(id, TaskState.STARTED), TTL);
      results.put(status(id, TaskState.PROGRESS), TTL);
      assertThat(future).as("not ready yet").isNotDone();

      TaskStatus outcome = status(id, ready);
      results.put(outcome, TTL);

      assertThat(future.get(PATIENCE.toMillis(), MILLISECONDS)).isEqualTo(outcome);
    }
  }

  @Test
  default void whenReadyIsAlreadyCompleteForReadyTask() {
    ResultStore results = backend().results();
    TaskStatus done = fullStatus(newId(), TaskState.SUCCESS);
    results.put(done, TTL);

    CompletableFuture<TaskStatus> future = results.whenReady(done.id());

    assertThat(future).isCompletedWithValue(done);
  }

  @Test
  default void cancelledWaiterIsDropped() throws Exception {
    ResultStore results = backend().results();
    String id = newId();
    List<CompletableFuture<TaskStatus>> cancelled = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      CompletableFuture<TaskStatus> f = results.whenReady(id);
      assertThat(f.cancel(false)).isTrue();
      cancelled.add(f);
    }
    CompletableFuture<TaskStatus> kept = results.whenReady(id);

    TaskStatus done = status(id, TaskState.SUCCESS);
    results.put(done, TTL);

    assertThat(kept.get(PATIENCE.toMillis(), MILLISECONDS)).isEqualTo(done);
    assertThat(cancelled).allSatisfy(f -> assertThat(f).isCancelled());
    assertThat(results.whenReady(id)).isCompletedWithValue(done);
  }

  @Test
  default void revokedAndRevokeExpiry() {
    ResultStore results = backend().results();
    String revoked = newId();
    String other = newId();

    results.revoke(revoked, TTL);

    assertThat(results.revoked(List.of(revoked, other))).containsExactly(revoked);
    assertThat(results.revoked(List.of())).isEmpty();
    clock().advance(TTL.minusMinutes(1));
    assertThat(results.revoked(List.of(revoked))).containsExactly(revoked);
    clock().advance(Duration.ofMinutes(2));
    assertThat(results.revoked(List.of(revoked, other))).isEmpty();
  }

  @Test
  default void revokeAllMarksEveryIdAsRevokeDoesEach() {
    ResultStore results = backend().results();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 2_500; i++) {
      ids.add(newId());
    }
    String other = newId();

    results.revokeAll(ids, TTL);
    results.revokeAll(List.of(), TTL);

    List<String> asked = new ArrayList<>(ids);
    asked.add(other);
    assertThat(results.revoked(asked)).containsExactlyInAnyOrderElementsOf(ids);
    clock().advance(TTL.minusMinutes(1));
    assertThat(results.revoked(ids)).hasSize(ids.size());
    clock().advance(Duration.ofMinutes(2));
    assertThat(results.revoked(ids)).isEmpty();
  }

  @Test
  default void claimOnceOnlyOnceWithinTtl() {
    ResultStore results = backend().results();

    assertThat(results.claimOnce("charge:order-1", TTL)).isTrue();
    assertThat(results.claimOnce("charge:order-1", TTL)).isFalse();
    assertThat(results.claimOnce("charge:order-2", TTL)).isTrue();
    clock().advance(TTL.minusMinutes(1));
    assertThat(results.claimOnce("charge:order-1", TTL)).isFalse();

    clock().advance(Duration.ofMinutes(2));
    assertThat(results.claimOnce("charge:order-1", TTL)).isTrue();
    assertThat(results.claimOnce("charge:order-1", TTL)).isFalse();
  }

  @Test
  default void claimOnceIsAtomicAcrossThreads() throws Exception {
    ResultStore results = backend().results();
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Boolean>> claims = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        claims.add(
            pool.submit(
                () -> {
                  start.await();
                  return results.claimOnce("contended", TTL);
                }));
      }
      start.countDown();
      int won = 0;
      for (Future<Boolean> c : claims) {
        won += c.get(PATIENCE.toMillis(), MILLISECONDS) ? 1 : 0;
      }
      assertThat(won).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  private TaskStatus status(String id, TaskState state) {
    return TaskStatus.pending(id).withState(state, clock().instant());
  }

  private TaskStatus fullStatus(String id, TaskState state) {
    Instant t = clock().instant();
    ObjectNode result = Wire.mapper().createObjectNode().put("url", "https://example.com/r.csv");
    ObjectNode progress = Wire.mapper().createObjectNode().put("done", 10).put("total", 10);
    return new TaskStatus(
        id,
        "reports.build",
        state,
        "reports",
        result,
        null,
        progress,
        null,
        2,
        "errand@host:1:1",
        t.minusSeconds(10),
        t.minusSeconds(5),
        t,
        null,
        t);
  }
}
