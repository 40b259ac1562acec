package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskOptions;
import dev.errand.TaskRevokedException;
import dev.errand.TaskState;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RevocationTest extends WorkerTestSupport {

  final AtomicInteger runs = new AtomicInteger();

  TaskRegistry counting() {
    return new TaskRegistry()
        .handle(
            JOB,
            (job, ctx) -> {
              runs.incrementAndGet();
              return "ran";
            });
  }

  @Test
  void taskReceivedAfterItExpiresIsRevokedWithReasonExpired() throws Exception {
    AsyncResult<String> r =
        client.enqueue(
            JOB,
            new Tasks.Job("stale"),
            TaskOptions.builder().expires(Duration.ofSeconds(10)).build());
    clock.advance(Duration.ofSeconds(11));
    startWorker(counting(), o -> {});

    assertThatThrownBy(() -> r.get(WAIT))
        .isInstanceOfSatisfying(
            TaskRevokedException.class, e -> assertThat(e.reason()).isEqualTo("expired"));
    assertThat(runs).hasValue(0);
    assertThat(backend.broker().stats("default").ready()).isZero();
  }

  @Test
  void taskPrefetchedBeforeItExpiresAndStartedAfterIsRevokedWithReasonExpired() throws Exception {
    CountDownLatch blockerStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  if (job.label().equals("blocker")) {
                    blockerStarted.countDown();
                    release.await();
                  }
                  runs.incrementAndGet();
                  return "ran";
                }),
        o -> o.concurrency(1).prefetch(4));
    AsyncResult<String> blocker = client.enqueue(JOB, new Tasks.Job("blocker"));
    assertThat(blockerStarted.await(10, TimeUnit.SECONDS)).isTrue();
    AsyncResult<String> late =
        client.enqueue(
            JOB,
            new Tasks.Job("late"),
            TaskOptions.builder().expires(Duration.ofSeconds(10)).build());
    // received (prefetched) while it is still fresh: its one slot is busy
    await().atMost(WAIT).until(() -> late.state() == TaskState.RECEIVED);

    clock.advance(Duration.ofSeconds(11));
    release.countDown();

    assertThat(blocker.get(WAIT)).isEqualTo("ran");
    assertThatThrownBy(() -> late.get(WAIT))
        .isInstanceOfSatisfying(
            TaskRevokedException.class, e -> assertThat(e.reason()).isEqualTo("expired"));
    assertThat(runs).hasValue(1); // the blocker only
  }

  @Test
  void taskRevokedBeforeItStartsIsSkipped() throws Exception {
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("cancelled"));
    assertThat(r.revoke()).isTrue();
    assertThat(r.state()).isEqualTo(TaskState.REVOKED);
    startWorker(counting(), o -> {});
    AsyncResult<String> after = client.enqueue(JOB, new Tasks.Job("next"));

    assertThat(after.get(WAIT)).isEqualTo("ran");
    assertThat(runs).hasValue(1);
    assertThat(r.status().reason()).isEqualTo("revoked");
  }

  @Test
  void revokingARunningTaskInterruptsItAndRecordsRevoked() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  started.countDown();
                  new CountDownLatch(1).await();
                  return "never";
                }),
        o -> {});
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("long"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    assertThat(r.revoke()).isTrue();
    clock.advance(Duration.ofSeconds(1)); // the worker checks revocations every second

    awaitState(r, TaskState.REVOKED);
    await().atMost(WAIT).until(() -> backend.broker().stats("default").leased() == 0);
  }

  @Test
  void readyTaskCannotBeRevoked() throws Exception {
    startWorker(counting(), o -> {});
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("x"));
    r.get(WAIT);
    assertThat(r.revoke()).isFalse();
    assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
  }
}
