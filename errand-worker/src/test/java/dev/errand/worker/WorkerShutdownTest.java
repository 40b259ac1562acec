package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskState;
import dev.errand.spi.Delivery;
import dev.errand.spi.QueueStats;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkerShutdownTest extends WorkerTestSupport {

  @Test
  void shutdownHandsBackPrefetchedMessagesAtOnceAndFinishesRunningOnes() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Worker worker =
        startWorker(
            new TaskRegistry()
                .handle(
                    JOB,
                    (job, ctx) -> {
                      started.countDown();
                      finish.await();
                      return "finished " + job.label();
                    }),
            o -> o.concurrency(1).prefetch(3).shutdownTimeout(Duration.ofSeconds(30)));
    AsyncResult<String> running = client.enqueue(JOB, new Tasks.Job("running"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 3; i++) {
      client.enqueue(JOB, new Tasks.Job("waiting-" + i));
    }
    await().atMost(WAIT).until(() -> worker.prefetchedCount() == 3);

    CompletableFuture<Boolean> shutdown =
        CompletableFuture.supplyAsync(() -> worker.shutdown(Duration.ofSeconds(30)));
    // Handed back while the running task is still running, not after it.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              QueueStats stats = backend.broker().stats("default");
              assertThat(stats.ready()).isEqualTo(3);
              assertThat(stats.leased()).isEqualTo(1);
            });
    assertThat(shutdown).isNotDone();
    awaitState(running, TaskState.STARTED);

    finish.countDown();
    assertThat(shutdown.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(running.get(WAIT)).isEqualTo("finished running");
    List<Delivery> back =
        backend.broker().claim(List.of("default"), 10, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(back).hasSize(3);
    assertThat(back).allSatisfy(d -> assertThat(d.deliveries()).isEqualTo(1));
  }

  @Test
  void taskStillRunningAfterTheTimeoutIsInterruptedAndHandedBack() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    Worker worker =
        startWorker(
            new TaskRegistry()
                .handle(
                    JOB,
                    (job, ctx) -> {
                      started.countDown();
                      new CountDownLatch(1).await(); // interrupted by the shutdown
                      return "never";
                    }),
            o -> o.concurrency(1).prefetch(0));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("long"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    assertThat(worker.shutdown(Duration.ofMillis(200))).isFalse();

    assertThat(r.state()).isNotEqualTo(TaskState.FAILURE);
    assertThat(client.deadLetters().count(null)).isZero();
    QueueStats stats = backend.broker().stats("default");
    assertThat(stats.ready()).isEqualTo(1);
    assertThat(stats.leased()).isZero();
  }

  @Test
  void closedWorkerFetchesNothingMore() throws Exception {
    Worker worker = startWorker(new TaskRegistry().handle(JOB, (job, ctx) -> "ok"), o -> {});
    worker.close();
    assertThat(worker.isRunning()).isFalse();

    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("after"));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> r.state() == TaskState.PENDING);
    assertThat(backend.broker().stats("default").ready()).isEqualTo(1);
  }
}
