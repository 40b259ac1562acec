package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.WorkerInfo;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker that is alive but not consuming says so in its heartbeat, whatever stalls it: claims
 * that fail, a fetch thread stuck in a call, a timer stuck in a call, outcome writes that block or
 * fail. And it says so again once it consumes.
 */
class WorkerStallTest extends WorkerTestSupport {

  static final Duration STALL = Duration.ofMillis(300);

  @AfterEach
  void heal() {
    backend.claimsFail = false;
    backend.claimsHang = false;
    backend.renewalsHang = false;
    backend.writesHang = false;
    backend.down = false;
  }

  private Worker start(TaskRegistry tasks) {
    return startWorker(
        tasks, o -> o.stallTimeout(STALL).heartbeatInterval(Duration.ofMillis(50)).name("w1"));
  }

  private TaskRegistry jobs(AtomicInteger runs) {
    return new TaskRegistry().handle(JOB, (job, ctx) -> "run " + runs.incrementAndGet());
  }

  /** What the worker last wrote to the registry: what inspect, the dashboard and metrics read. */
  private WorkerInfo reported() {
    return backend.workers().live().stream()
        .filter(w -> w.name().equals("w1"))
        .findFirst()
        .orElseThrow();
  }

  private void awaitReported(boolean consuming, String problem) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              WorkerInfo info = reported();
              assertThat(info.consuming()).isEqualTo(consuming);
              if (problem == null) {
                assertThat(info.problem()).isNull();
              } else {
                assertThat(info.problem()).contains(problem);
              }
            });
  }

  @Test
  void aBlockedOutcomeWriteIsReported() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    Worker w = start(jobs(runs));
    awaitReported(true, null);
    backend.writesHang = true;

    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("stuck write"));

    awaitReported(false, "task outcomes could not be written for");
    assertThat(w.info().problem()).contains("a write is blocked");
    backend.writesHang = false;
    assertThat(r.get(WAIT)).isEqualTo("run 1");
    awaitReported(true, null);
    assertThat(runs).hasValue(1);
  }

  @Test
  void outcomeWritesFailingWhileTheBackendIsDownAreRetriedNotDeadLettered() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    Worker w =
        start(
            new TaskRegistry()
                .handle(
                    JOB,
                    (job, ctx) -> {
                      release.await(10, TimeUnit.SECONDS);
                      return "run " + runs.incrementAndGet();
                    }));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("outage"));
    await().atMost(WAIT).until(() -> w.info().running().size() == 1);

    backend.down = true; // every call fails: claims, renewals, writes, heartbeats
    release.countDown();

    await().atMost(WAIT).until(() -> !w.isConsuming());
    await()
        .atMost(WAIT)
        .until(
            () ->
                String.valueOf(w.info().problem()).contains("task outcomes could not be written"));
    backend.down = false;

    assertThat(r.get(WAIT)).isEqualTo("run 1");
    await().atMost(WAIT).until(w::isConsuming);
    assertThat(client.deadLetters().count(null)).isZero();
    assertThat(runs).hasValue(1);
  }

  @Test
  void aFetchThreadStuckInAClaimIsReported() throws Exception {
    start(jobs(new AtomicInteger()));
    awaitReported(true, null);

    backend.claimsHang = true;

    awaitReported(false, "its fetch loop has been stuck for");
    backend.claimsHang = false;
    awaitReported(true, null);
  }

  @Test
  void failingClaimsAreReported() throws Exception {
    start(jobs(new AtomicInteger()));
    awaitReported(true, null);

    backend.claimsFail = true;

    awaitReported(false, "claims fail");
    assertThat(reported().problem()).contains("injected: claims fail");
    backend.claimsFail = false;
    awaitReported(true, null);
  }

  @Test
  void aTimerStuckInALeaseRenewalIsReported() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    start(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  release.await(10, TimeUnit.SECONDS);
                  return "done";
                }));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("held"));
    await().atMost(WAIT).until(() -> reported().running().size() == 1);

    backend.renewalsHang = true;
    clock.advance(Duration.ofSeconds(11)); // past the renewal interval (a third of 30 s)

    awaitReported(false, "its timer (time limits, lease renewal, revocations) has been stuck");
    backend.renewalsHang = false;
    release.countDown();
    assertThat(r.get(WAIT)).isEqualTo("done");
    awaitReported(true, null);
  }
}
