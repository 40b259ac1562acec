package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerCrashTest extends WorkerTestSupport {

  @Test
  void taskOfAKilledWorkerIsRedeliveredAfterItsLease() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    TaskRegistry tasks =
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  if (runs.incrementAndGet() == 1) {
                    started.countDown();
                    new CountDownLatch(1).await(); // the first worker dies while in here
                  }
                  return "done by " + ctx.workerName() + " on attempt " + ctx.attempt();
                });
    Worker doomed = startWorker(tasks, o -> o.name("doomed").leaseDuration(Duration.ofSeconds(30)));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("export"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    doomed.halt(); // like SIGKILL: no ack, no release, no more lease renewals
    Worker survivor = startWorker(tasks, o -> o.name("survivor"));
    clock.advance(Duration.ofSeconds(29));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> runs.get() == 1);

    clock.advance(Duration.ofSeconds(2));
    assertThat(r.get(WAIT)).isEqualTo("done by survivor on attempt 1");
    assertThat(r.status().worker()).isEqualTo(survivor.name());
    assertThat(runs).hasValue(2);
  }

  @Test
  void outcomesAreWrittenOnceTheBackendAnswersAgainWithoutRunningTheTaskTwice() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    startWorker(
        new TaskRegistry().handle(JOB, (job, ctx) -> "run " + runs.incrementAndGet()),
        o -> o.name("steady"));
    backend.failingWrites.set(3); // the next three batched writes fail (backoff 100, 200, 400 ms)

    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("during an outage"));

    assertThat(r.get(WAIT)).isEqualTo("run 1");
    assertThat(backend.failingWrites).hasValue(0);
    assertThat(runs).hasValue(1);
    await().atMost(WAIT).until(() -> backend.broker().stats("default").leased() == 0);
  }

  @Test
  void leaseRenewalKeepsALongTaskFromBeingRedelivered() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  runs.incrementAndGet();
                  started.countDown();
                  finish.await();
                  return "done";
                }),
        o -> o.leaseDuration(Duration.ofSeconds(30)).leaseRenewInterval(Duration.ofSeconds(10)));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("backup"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    // 120 s of task time, four times the lease, in renewal-sized steps.
    for (int i = 0; i < 12; i++) {
      int before = backend.renewals.get();
      clock.advance(Duration.ofSeconds(10));
      await().atMost(WAIT).until(() -> backend.renewals.get() > before);
      assertThat(
              backend
                  .inner
                  .broker()
                  .claim(List.of("default"), 1, Duration.ofSeconds(30), Duration.ZERO))
          .as("a second consumer after %d s", (i + 1) * 10)
          .isEmpty();
    }

    finish.countDown();
    assertThat(r.get(WAIT)).isEqualTo("done");
    assertThat(runs).hasValue(1);
  }

  @Test
  void acksEarlyTaskIsNotRedeliveredAfterACrash() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    TaskRegistry tasks =
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  runs.incrementAndGet();
                  started.countDown();
                  new CountDownLatch(1).await();
                  return "never";
                });
    Worker doomed = startWorker(tasks, o -> o.prefetch(0));
    AsyncResult<String> r =
        client.enqueue(JOB, new Tasks.Job("x"), TaskOptions.builder().acksLate(false).build());
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    doomed.halt();

    clock.advance(Duration.ofMinutes(5));
    startWorker(tasks, o -> {});
    await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> runs.get() == 1);
    // Acked on receipt: the message left the broker before the crash, so nothing comes back.
    assertThat(backend.broker().stats("default").ready()).isZero();
    assertThat(backend.broker().stats("default").leased()).isZero();
    assertThat(r.state().isReady()).isFalse();
  }
}
