package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskFailedException;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerRetryTest extends WorkerTestSupport {

  static final RetryPolicy NO_JITTER =
      RetryPolicy.builder()
          .maxRetries(3)
          .backoff(Duration.ofSeconds(10))
          .backoffMax(Duration.ofSeconds(25))
          .jitter(false)
          .build();

  static TaskDef<Tasks.Job, String> flaky(RetryPolicy policy) {
    return TaskDef.builder("jobs.flaky", Tasks.Job.class, String.class)
        .options(TaskOptions.builder().retry(policy).build())
        .build();
  }

  @Test
  void retriesWithExponentialBackoffMeasuredOnTheClock() throws Exception {
    TaskDef<Tasks.Job, String> task = flaky(NO_JITTER);
    AtomicInteger attempts = new AtomicInteger();
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (job, ctx) -> {
                  if (attempts.incrementAndGet() < 4) {
                    throw new IOException("smtp down, attempt " + ctx.attempt());
                  }
                  return "sent on attempt " + ctx.attempt();
                }),
        o -> {});
    Instant t0 = clock.instant();
    AsyncResult<String> r = client.enqueue(task, new Tasks.Job("mail"));

    // Attempt 1 fails: retry due after the base, 10 s.
    awaitRetry(r, t0.plusSeconds(10), 1);
    clock.advance(Duration.ofSeconds(9));
    assertNotRunAgain(attempts, 1);
    clock.advance(Duration.ofSeconds(1));
    // Attempt 2 fails at t0+10: the bound doubles to 20 s.
    awaitRetry(r, t0.plusSeconds(30), 2);
    clock.advance(Duration.ofSeconds(20));
    // Attempt 3 fails at t0+30: 40 s is capped at 25 s.
    awaitRetry(r, t0.plusSeconds(55), 3);
    clock.advance(Duration.ofSeconds(25));

    assertThat(r.get(WAIT)).isEqualTo("sent on attempt 4");
    assertThat(r.status().attempt()).isEqualTo(4);
    // The history travels with the message: the last status shows every earlier attempt.
    assertThat(r.status().retries())
        .extracting(x -> x.attempt() + " " + x.error().message() + " " + x.at())
        .containsExactly(
            "1 smtp down, attempt 1 " + t0,
            "2 smtp down, attempt 2 " + t0.plusSeconds(10),
            "3 smtp down, attempt 3 " + t0.plusSeconds(30));
    assertThat(r.status().args().get("kwargs").get("label").asText()).isEqualTo("mail");
  }

  @Test
  void aTaskSentFromAHandlerNamesItsParent() throws Exception {
    startWorker(
        new TaskRegistry()
            .handle(
                Tasks.JOB,
                (job, ctx) -> {
                  if (job.label().equals("parent")) {
                    ctx.client().enqueue(Tasks.JOB, new Tasks.Job("child"));
                  }
                  return job.label();
                }),
        o -> {});

    AsyncResult<String> parent = client.enqueue(Tasks.JOB, new Tasks.Job("parent"));
    assertThat(parent.get(WAIT)).isEqualTo("parent");

    org.awaitility.Awaitility.await()
        .atMost(WAIT)
        .until(
            () ->
                backend
                    .results()
                    .search(dev.errand.spi.TaskQuery.builder().parentId(parent.id()).build())
                    .tasks()
                    .stream()
                    .anyMatch(t -> t.state() == TaskState.SUCCESS));
    assertThat(parent.status().parentId()).isNull();
  }

  @Test
  void jitteredDelayStaysWithinTheExponentialBound() throws Exception {
    RetryPolicy jittered = NO_JITTER.toBuilder().jitter(true).maxRetries(1).build();
    TaskDef<Tasks.Job, String> task = flaky(jittered);
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (job, ctx) -> {
                  if (ctx.attempt() == 1) {
                    throw new IOException("boom");
                  }
                  return "ok";
                }),
        o -> {});
    Instant t0 = clock.instant();
    AsyncResult<String> r = client.enqueue(task, new Tasks.Job("x"));

    awaitState(r, TaskState.RETRY);
    Instant retryAt = r.status().retryAt();
    assertThat(retryAt).isBetween(t0, t0.plusSeconds(10));
    clock.set(retryAt);
    assertThat(r.get(WAIT)).isEqualTo("ok");
  }

  @Test
  void failsAfterTheLastRetryWithADeadLetterHoldingEverything() throws Exception {
    TaskDef<Tasks.Job, String> task = flaky(NO_JITTER.toBuilder().maxRetries(1).build());
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (job, ctx) -> {
                  throw new IllegalStateException("always broken: " + job.label());
                }),
        o -> {});
    AsyncResult<String> r = client.enqueue(task, new Tasks.Job("doomed"));
    awaitState(r, TaskState.RETRY);
    clock.advance(Duration.ofSeconds(10));

    assertThatThrownBy(() -> r.get(WAIT))
        .isInstanceOfSatisfying(
            TaskFailedException.class,
            e -> {
              assertThat(e.remoteType()).isEqualTo("java.lang.IllegalStateException");
              assertThat(e.remoteMessage()).isEqualTo("always broken: doomed");
              assertThat(e.traceback()).contains("WorkerRetryTest");
              assertThat(e.taskId()).isEqualTo(r.id());
            });
    DeadLetter dl = client.deadLetters().get(r.id()).orElseThrow();
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.FAILED);
    assertThat(dl.taskName()).isEqualTo("jobs.flaky");
    assertThat(dl.kwargs().get("label").asText()).isEqualTo("doomed");
    assertThat(dl.error().type()).isEqualTo("java.lang.IllegalStateException");
    assertThat(dl.error().traceback()).isNotBlank();
    assertThat(dl.attempts()).isEqualTo(2);
    assertThat(dl.sentAt()).isNotNull();
    assertThat(dl.failedAt()).isEqualTo(clock.instant());
  }

  @Test
  void neverRetryExceptionsFailAtOnce() throws Exception {
    TaskDef<Tasks.Job, String> task =
        flaky(NO_JITTER.toBuilder().neverRetry(IllegalArgumentException.class).build());
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (job, ctx) -> {
                  throw new NumberFormatException("bad input"); // an IllegalArgumentException
                }),
        o -> {});
    AsyncResult<String> r = client.enqueue(task, new Tasks.Job("x"));

    awaitState(r, TaskState.FAILURE);
    assertThat(r.status().attempt()).isEqualTo(1);
  }

  @Test
  void retryOnRetriesOnlyTheListedExceptions() throws Exception {
    TaskDef<Tasks.Job, String> task =
        flaky(NO_JITTER.toBuilder().retryOn(IOException.class).build());
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (job, ctx) -> {
                  if (job.label().equals("io")) throw new IOException("network");
                  throw new UncheckedIOException(new IOException("wrapped, not an IOException"));
                }),
        o -> {});
    AsyncResult<String> io = client.enqueue(task, new Tasks.Job("io"));
    AsyncResult<String> other = client.enqueue(task, new Tasks.Job("other"));

    awaitState(io, TaskState.RETRY);
    awaitState(other, TaskState.FAILURE);
  }

  @Test
  void ctxRetryAsksForAnotherAttemptAfterTheCountdown() throws Exception {
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  if (ctx.attempt() == 1) {
                    throw ctx.retry(new IOException("rate limited"), Duration.ofSeconds(42));
                  }
                  return "attempt " + ctx.attempt();
                }),
        o -> {});
    Instant t0 = clock.instant();
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("api"));

    awaitState(r, TaskState.RETRY);
    TaskStatus s = r.status();
    assertThat(s.retryAt()).isEqualTo(t0.plusSeconds(42));
    assertThat(s.error().type()).isEqualTo("java.io.IOException");
    clock.advance(Duration.ofSeconds(42));
    assertThat(r.get(WAIT)).isEqualTo("attempt 2");
  }

  @Test
  void perCallRetryPolicyOverridesTheDefinition() throws Exception {
    TaskDef<Tasks.Job, String> task = flaky(NO_JITTER);
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (job, ctx) -> {
                  throw new IOException("down");
                }),
        o -> {});
    AsyncResult<String> r =
        client.enqueue(
            task, new Tasks.Job("x"), TaskOptions.builder().retry(RetryPolicy.none()).build());

    awaitState(r, TaskState.FAILURE);
    assertThat(r.status().attempt()).isEqualTo(1);
  }

  private void awaitRetry(AsyncResult<String> r, Instant due, int attempt) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              TaskStatus s = r.status();
              assertThat(s.state()).isEqualTo(TaskState.RETRY);
              assertThat(s.attempt()).isEqualTo(attempt);
              assertThat(s.retryAt()).isEqualTo(due);
            });
  }

  private static void assertNotRunAgain(AtomicInteger attempts, int expected) {
    // The worker polls every 100 ms: give it several chances to (wrongly) run the task early.
    await()
        .during(Duration.ofMillis(400))
        .atMost(Duration.ofSeconds(2))
        .until(() -> attempts.get() == expected);
  }
}
