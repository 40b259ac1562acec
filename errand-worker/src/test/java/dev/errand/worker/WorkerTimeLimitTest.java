package dev.errand.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class WorkerTimeLimitTest extends WorkerTestSupport {

  static final TaskDef<Tasks.Job, String> SLOW =
      TaskDef.builder("reports.slow", Tasks.Job.class, String.class)
          .options(
              TaskOptions.builder()
                  .softTimeLimit(Duration.ofSeconds(5))
                  .hardTimeLimit(Duration.ofSeconds(20))
                  .retry(RetryPolicy.none())
                  .build())
          .build();

  @Test
  void softLimitInterruptsTheHandlerWhichCanCleanUp() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean cancelledSeen = new AtomicBoolean();
    startWorker(
        new TaskRegistry()
            .handle(
                SLOW,
                (job, ctx) -> {
                  started.countDown();
                  try {
                    new CountDownLatch(1).await(); // waits for something that never comes
                    return "finished";
                  } catch (InterruptedException e) {
                    cancelledSeen.set(ctx.isCancelled());
                    return "partial report, cleaned up";
                  }
                }),
        o -> {});
    AsyncResult<String> r = client.enqueue(SLOW, new Tasks.Job("q3"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    clock.advance(Duration.ofSeconds(4));
    awaitState(r, TaskState.STARTED);
    clock.advance(Duration.ofSeconds(1));

    assertThat(r.get(WAIT)).isEqualTo("partial report, cleaned up");
    assertThat(cancelledSeen).isTrue();
  }

  @Test
  void softLimitSurfacesAsSoftTimeLimitExceededWhenTheHandlerChecks() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    startWorker(
        new TaskRegistry()
            .handle(
                SLOW,
                (job, ctx) -> {
                  started.countDown();
                  while (true) {
                    ctx.checkCancelled();
                    Thread.onSpinWait();
                  }
                }),
        o -> {});
    AsyncResult<String> r = client.enqueue(SLOW, new Tasks.Job("q3"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    clock.advance(Duration.ofSeconds(5));

    awaitState(r, TaskState.FAILURE);
    assertThat(r.status().error().type()).isEqualTo("dev.errand.SoftTimeLimitExceeded");
  }

  @Test
  void hardLimitFailsTheTaskFreesItsSlotAndAbandonsTheThread() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean release = new AtomicBoolean();
    AtomicReference<Thread> abandoned = new AtomicReference<>();
    startWorker(
        new TaskRegistry()
            .handle(
                SLOW,
                (job, ctx) -> {
                  if (job.label().equals("stuck")) {
                    started.countDown();
                    while (!release.get()) { // ignores interrupts, like a stuck native call
                      Thread.onSpinWait();
                    }
                    return "too late";
                  }
                  return "fresh slot for " + job.label();
                }),
        o -> o.concurrency(1).prefetch(0),
        b ->
            b.listener(
                new WorkerListener() {
                  @Override
                  public void threadAbandoned(TaskContext ctx, Thread thread) {
                    abandoned.set(thread);
                  }
                }));
    try {
      AsyncResult<String> stuck = client.enqueue(SLOW, new Tasks.Job("stuck"));
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      clock.advance(Duration.ofSeconds(20));

      awaitState(stuck, TaskState.FAILURE);
      assertThat(stuck.status().error().type()).isEqualTo("dev.errand.TimeLimitExceeded");
      await().atMost(WAIT).until(() -> abandoned.get() != null);
      assertThat(abandoned.get().isAlive()).isTrue();

      // With concurrency 1 the only slot is taken by the stuck thread, unless it was replaced.
      AsyncResult<String> next = client.enqueue(SLOW, new Tasks.Job("next"));
      assertThat(next.get(WAIT)).isEqualTo("fresh slot for next");
      assertThat(stuck.state()).isEqualTo(TaskState.FAILURE);
    } finally {
      release.set(true);
    }
  }

  @Test
  void hardLimitRetriesOnlyOnceTheStuckAttemptHasEnded() throws Exception {
    TaskDef<Tasks.Job, String> retrying =
        SLOW.toBuilder()
            .options(
                SLOW.options().toBuilder()
                    .retry(RetryPolicy.builder().maxRetries(1).jitter(false).build())
                    .build())
            .build();
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean release = new AtomicBoolean();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    Worker w =
        startWorker(
            new TaskRegistry()
                .handle(
                    retrying,
                    (job, ctx) -> {
                      mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                      try {
                        if (ctx.attempt() == 1) {
                          started.countDown();
                          while (!release.get()) {
                            Thread.onSpinWait(); // deaf to interrupts: it cannot be stopped
                          }
                        }
                        return "attempt " + ctx.attempt();
                      } finally {
                        running.decrementAndGet();
                      }
                    }),
            o -> o.concurrency(2));
    try {
      AsyncResult<String> r = client.enqueue(retrying, new Tasks.Job("x"));
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      clock.advance(Duration.ofSeconds(20));
      awaitState(r, TaskState.RETRY);
      assertThat(r.status().error().type()).isEqualTo("dev.errand.TimeLimitExceeded");
      assertThat(w.stuckThreads()).isEqualTo(1);

      // The retry is due, a slot is free, but attempt 1 still runs: attempt 2 must wait.
      clock.advance(Duration.ofSeconds(5));
      await()
          .during(Duration.ofMillis(500))
          .atMost(WAIT)
          .until(() -> r.state() == TaskState.RETRY && running.get() == 1);
      assertThat(backend.broker().stats("default").leased()).isEqualTo(1);

      release.set(true); // the stuck thread ends
      assertThat(r.get(WAIT)).isEqualTo("attempt 2");
      assertThat(mostAtOnce).hasValue(1);
      assertThat(w.stuckThreads()).isZero();
    } finally {
      release.set(true);
    }
  }

  @Test
  void aRetryHeldForAStuckThreadIsHandedOverAtShutdown() throws Exception {
    TaskDef<Tasks.Job, String> retrying =
        SLOW.toBuilder()
            .options(
                SLOW.options().toBuilder()
                    .retry(RetryPolicy.builder().maxRetries(1).jitter(false).build())
                    .build())
            .build();
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean release = new AtomicBoolean();
    Worker w =
        startWorker(
            new TaskRegistry()
                .handle(
                    retrying,
                    (job, ctx) -> {
                      started.countDown();
                      while (!release.get()) {
                        Thread.onSpinWait();
                      }
                      return "attempt " + ctx.attempt();
                    }),
            o -> o.concurrency(1));
    try {
      AsyncResult<String> r = client.enqueue(retrying, new Tasks.Job("x"));
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      clock.advance(Duration.ofSeconds(20));
      awaitState(r, TaskState.RETRY);

      assertThat(w.shutdown(Duration.ofSeconds(1))).isTrue(); // it does not wait for the stuck one
      List<HeldRetry> held = w.heldRetries();
      assertThat(held).hasSize(1);
      assertThat(held.get(0).id()).isEqualTo(r.id());
      assertThat(backend.broker().stats("default").leased()).isEqualTo(1); // still held

      // Whoever outlives the process (the supervisor) sends it once the process is gone.
      assertThat(held.get(0).send(backend.broker())).isTrue();
      assertThat(backend.broker().stats("default").leased()).isZero();
      release.set(true);
      startWorker(
          new TaskRegistry().handle(retrying, (job, ctx) -> "attempt " + ctx.attempt()), o -> {});
      clock.advance(Duration.ofSeconds(2));
      assertThat(r.get(WAIT)).isEqualTo("attempt 2");
    } finally {
      release.set(true);
    }
  }
}
