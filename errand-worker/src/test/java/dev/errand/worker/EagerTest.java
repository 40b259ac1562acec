package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetterReason;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskFailedException;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.memory.InMemoryBackend;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class EagerTest extends WorkerTestSupport {

  static final TaskDef<Tasks.Job, String> FLAKY =
      TaskDef.builder("jobs.flaky", Tasks.Job.class, String.class)
          .options(
              TaskOptions.builder()
                  .retry(RetryPolicy.builder().maxRetries(2).backoff(Duration.ofSeconds(5)).build())
                  .build())
          .build();

  static TaskRegistry failingOnce() {
    return new TaskRegistry()
        .handle(
            FLAKY,
            (job, ctx) -> {
              if (ctx.attempt() == 1) {
                throw new IOException("first attempt fails");
              }
              return job.label() + " on attempt " + ctx.attempt();
            });
  }

  @Test
  void eagerRunsInlineWithTheSameStatesAsAWorker() throws Exception {
    InMemoryBackend stores = new InMemoryBackend(clock);
    Client eager = Eager.builder(failingOnce()).stores(stores).clock(clock).build();
    AsyncResult<String> inline = eager.enqueue(FLAKY, new Tasks.Job("e"));

    assertThat(inline.state()).isEqualTo(TaskState.SUCCESS); // already done when enqueue returns
    assertThat(inline.get(Duration.ZERO)).isEqualTo("e on attempt 2");

    startWorker(failingOnce(), o -> {});
    AsyncResult<String> viaWorker = client.enqueue(FLAKY, new Tasks.Job("e"));
    awaitState(viaWorker, TaskState.RETRY);
    clock.advance(Duration.ofSeconds(5));
    assertThat(viaWorker.get(WAIT)).isEqualTo("e on attempt 2");

    TaskStatus a = inline.status();
    TaskStatus b = viaWorker.status();
    assertThat(a.state()).isEqualTo(b.state());
    assertThat(a.attempt()).isEqualTo(b.attempt()).isEqualTo(2);
    assertThat(a.result()).isEqualTo(b.result());
    assertThat(a.name()).isEqualTo(b.name());
    // Same events in the same order; only task-sent differs in position, since eager mode has
    // already run the task when the client records that it sent it.
    List<String> eagerEvents = eventTypes(stores, inline.id());
    assertThat(eagerEvents).contains("task-sent");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(eventTypes(backend, viaWorker.id()))
                    .containsExactly(
                        "task-sent",
                        "task-received",
                        "task-started",
                        "task-retried",
                        "task-received",
                        "task-started",
                        "task-succeeded"));
    assertThat(eagerEvents.stream().filter(t -> !t.equals("task-sent")).toList())
        .isEqualTo(
            eventTypes(backend, viaWorker.id()).stream()
                .filter(t -> !t.equals("task-sent"))
                .toList());
  }

  @Test
  void eagerRecordsFailuresAndDeadLettersLikeAWorker() {
    Client eager =
        Eager.builder(
                new TaskRegistry()
                    .handle(
                        JOB,
                        (job, ctx) -> {
                          throw new IllegalStateException("broken");
                        }))
            .clock(clock)
            .build();
    AsyncResult<String> r =
        eager.enqueue(
            JOB, new Tasks.Job("x"), TaskOptions.builder().retry(RetryPolicy.none()).build());

    assertThat(r.state()).isEqualTo(TaskState.FAILURE);
    assertThat(eager.deadLetters().get(r.id()).orElseThrow().reason())
        .isEqualTo(DeadLetterReason.FAILED);
  }

  @Test
  void eagerPropagatesFailuresWhenAsked() {
    Client eager =
        Eager.builder(
                new TaskRegistry()
                    .handle(
                        JOB,
                        (job, ctx) -> {
                          throw new IllegalStateException("broken " + job.label());
                        }))
            .propagateExceptions(true)
            .build();

    assertThatThrownBy(
            () ->
                eager.enqueue(
                    JOB,
                    new Tasks.Job("now"),
                    TaskOptions.builder().retry(RetryPolicy.none()).build()))
        .isInstanceOfSatisfying(
            TaskFailedException.class,
            e -> {
              assertThat(e.remoteType()).isEqualTo("java.lang.IllegalStateException");
              assertThat(e.remoteMessage()).isEqualTo("broken now");
            });
  }

  @Test
  void tasksEnqueuedFromATaskRunInlineToo() throws Exception {
    TaskDef<Tasks.Job, String> parent = TaskDef.of("jobs.parent", Tasks.Job.class, String.class);
    List<String> ran = new CopyOnWriteArrayList<>();
    Client eager =
        Eager.client(
            new TaskRegistry()
                .handle(
                    JOB,
                    (job, ctx) -> {
                      ran.add(job.label());
                      return job.label();
                    })
                .handle(
                    parent,
                    (job, ctx) -> {
                      String child =
                          ctx.client().enqueue(JOB, new Tasks.Job("child")).get(Duration.ZERO);
                      return "parent saw " + child;
                    }));

    assertThat(eager.enqueue(parent, new Tasks.Job("p")).get(Duration.ZERO))
        .isEqualTo("parent saw child");
    assertThat(ran).containsExactly("child");
  }

  private static List<String> eventTypes(dev.errand.spi.Backend b, String id) {
    return b.events().read(0, 1000).stream()
        .filter(e -> id.equals(e.taskId()))
        .map(e -> e.type().wireName())
        .toList();
  }
}
