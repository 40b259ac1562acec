package dev.errand.worker;

import static dev.errand.worker.Tasks.ADD;
import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.EventType;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class WorkerExecutionTest extends WorkerTestSupport {

  @Test
  void runsTaskAndRecordsResultWithTimestampsWorkerAndAttempt() throws Exception {
    Worker worker =
        startWorker(new TaskRegistry().handle(ADD, (a, ctx) -> a.x() + a.y()), o -> o.name("w1"));

    AsyncResult<Integer> r = client.enqueue(ADD, new Tasks.Add(2, 3));

    assertThat(r.get(WAIT)).isEqualTo(5);
    TaskStatus s = r.status();
    assertThat(s.state()).isEqualTo(TaskState.SUCCESS);
    assertThat(s.name()).isEqualTo("math.add");
    assertThat(s.worker()).isEqualTo(worker.name()).isEqualTo("w1");
    assertThat(s.attempt()).isEqualTo(1);
    assertThat(s.queue()).isEqualTo("default");
    assertThat(s.sentAt()).isEqualTo(clock.instant());
    assertThat(s.startedAt()).isNotNull();
    assertThat(s.finishedAt()).isNotNull();
  }

  @Test
  void recordsEveryStateInOrderAsEvents() throws Exception {
    startWorker(new TaskRegistry().handle(ADD, (a, ctx) -> a.x() + a.y()), o -> {});
    AsyncResult<Integer> r = client.enqueue(ADD, new Tasks.Add(1, 1));
    r.get(WAIT);

    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        backend.events().read(0, 100).stream()
                            .filter(e -> r.id().equals(e.taskId()))
                            .map(e -> e.type()))
                    .containsExactly(
                        EventType.TASK_SENT,
                        EventType.TASK_RECEIVED,
                        EventType.TASK_STARTED,
                        EventType.TASK_SUCCEEDED));
  }

  @Test
  void progressIsReadableWhileRunningAndKeptInTheFinalStatus() throws Exception {
    CountDownLatch reported = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  ctx.progress(3, 10);
                  reported.countDown();
                  finish.await();
                  return "done";
                }),
        o -> {});
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("export"));

    assertThat(reported.await(10, TimeUnit.SECONDS)).isTrue();
    awaitState(r, TaskState.PROGRESS);
    JsonNode meta = r.progress().orElseThrow();
    assertThat(meta.get("current").asLong()).isEqualTo(3);
    assertThat(meta.get("total").asLong()).isEqualTo(10);

    finish.countDown();
    assertThat(r.get(WAIT)).isEqualTo("done");
    assertThat(r.progress())
        .hasValueSatisfying(p -> assertThat(p.get("current").asLong()).isEqualTo(3));
  }

  @Test
  void higherPriorityRunsFirst() throws Exception {
    List<String> order = new CopyOnWriteArrayList<>();
    client.enqueue(JOB, new Tasks.Job("low"), TaskOptions.builder().priority(0).build());
    client.enqueue(JOB, new Tasks.Job("mid"), TaskOptions.builder().priority(5).build());
    AsyncResult<String> last =
        client.enqueue(JOB, new Tasks.Job("high"), TaskOptions.builder().priority(9).build());
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  order.add(job.label());
                  return job.label();
                }),
        o -> o.concurrency(1).prefetch(0));

    await().atMost(WAIT).until(() -> order.size() == 3);
    assertThat(order).containsExactly("high", "mid", "low");
    assertThat(last.get(WAIT)).isEqualTo("high");
  }

  @Test
  void consumesQueuesInTheOrderGiven() throws Exception {
    List<String> order = new CopyOnWriteArrayList<>();
    client.enqueue(JOB, new Tasks.Job("bulk"), TaskOptions.builder().queue("bulk").build());
    client.enqueue(JOB, new Tasks.Job("urgent"), TaskOptions.builder().queue("urgent").build());
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  order.add(job.label());
                  return job.label();
                }),
        o -> o.concurrency(1).prefetch(0).queues("urgent", "bulk"));

    await().atMost(WAIT).until(() -> order.size() == 2);
    assertThat(order).containsExactly("urgent", "bulk");
  }

  @Test
  void logContextCarriesTaskIdNameAndRequestId() throws Exception {
    Map<String, String> seen = new ConcurrentHashMap<>();
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  seen.putAll(MDC.getCopyOfContextMap());
                  return "ok";
                }),
        o -> {});
    MDC.put("requestId", "req-42");
    AsyncResult<String> r;
    try {
      r = client.enqueue(JOB, new Tasks.Job("x"));
    } finally {
      MDC.remove("requestId");
    }
    r.get(WAIT);

    assertThat(seen)
        .containsEntry(Worker.MDC_TASK_ID, r.id())
        .containsEntry(Worker.MDC_TASK_NAME, "jobs.run")
        .containsEntry(Worker.MDC_REQUEST_ID, "req-42");
  }

  @Test
  void interceptorsWrapTheHandlerInOrderAndListenerHearsOutcomes() throws Exception {
    List<String> calls = new CopyOnWriteArrayList<>();
    AtomicInteger succeeded = new AtomicInteger();
    startWorker(
        new TaskRegistry().handle(JOB, (job, ctx) -> calls.add("handler") ? "ok" : "?"),
        o -> {},
        b ->
            b.interceptor(
                    chain -> {
                      calls.add("outer>");
                      Object r = chain.proceed();
                      calls.add("<outer");
                      return r;
                    })
                .interceptor(
                    chain -> {
                      calls.add("inner " + ((Tasks.Job) chain.argument()).label());
                      return chain.proceed();
                    })
                .listener(
                    new WorkerListener() {
                      @Override
                      public void taskSucceeded(TaskContext ctx, Duration runtime) {
                        succeeded.incrementAndGet();
                      }
                    }));

    client.enqueue(JOB, new Tasks.Job("a")).get(WAIT);

    assertThat(calls).containsExactly("outer>", "inner a", "handler", "<outer");
    await().atMost(WAIT).until(() -> succeeded.get() == 1);
  }

  @Test
  void idempotencyKeyRunsTheTaskOnce() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    TaskOptions keyed = TaskOptions.builder().idempotencyKey("order-7").build();
    AsyncResult<String> first = client.enqueue(JOB, new Tasks.Job("a"), keyed);
    AsyncResult<String> second = client.enqueue(JOB, new Tasks.Job("b"), keyed);
    assertThat(second.id()).isEqualTo(first.id());

    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  runs.incrementAndGet();
                  return job.label();
                }),
        o -> {});

    assertThat(second.get(WAIT)).isEqualTo("a");
    assertThat(runs).hasValue(1);
  }

  @Test
  void onceGuardsAnEffectAcrossTasks() throws Exception {
    AtomicInteger charges = new AtomicInteger();
    startWorker(
        new TaskRegistry()
            .handle(
                JOB,
                (job, ctx) -> {
                  if (ctx.once("charge:" + job.label())) {
                    charges.incrementAndGet();
                    return "charged";
                  }
                  return "skipped";
                }),
        o -> o.concurrency(1));

    assertThat(client.enqueue(JOB, new Tasks.Job("o-1")).get(WAIT)).isEqualTo("charged");
    assertThat(client.enqueue(JOB, new Tasks.Job("o-1")).get(WAIT)).isEqualTo("skipped");
    assertThat(charges).hasValue(1);
  }

  @Test
  void heartbeatsListTheWorkerWithItsRunningTaskAndCloseRemovesIt() throws Exception {
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
                      return "ok";
                    }),
            o -> o.name("hb").heartbeatInterval(Duration.ofSeconds(5)).queues("default", "other"));
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("x"));
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    clock.advance(Duration.ofSeconds(5));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              List<WorkerInfo> live = backend.workers().live();
              assertThat(live).extracting(WorkerInfo::name).containsExactly("hb");
              WorkerInfo info = live.get(0);
              assertThat(info.queues()).containsExactly("default", "other");
              assertThat(info.running())
                  .extracting(WorkerInfo.RunningTask::id)
                  .containsExactly(r.id());
              assertThat(info.consuming()).isTrue();
            });

    finish.countDown();
    r.get(WAIT);
    worker.close();
    assertThat(backend.workers().live()).isEmpty();
  }

  @Test
  void theFirstHeartbeatAlreadySaysTheWorkerIsConsuming() {
    startWorker(new TaskRegistry().handle(JOB, (job, ctx) -> "ok"), o -> o.name("fresh"));

    // start() writes the first heartbeat before returning; an operator looking right away must
    // not see a healthy new worker flagged as stuck.
    assertThat(backend.workers().live())
        .singleElement()
        .satisfies(w -> assertThat(w.consuming()).as("consuming").isTrue());
  }
}
