package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Fair queues, paused queues and autoscaling, with a worker on the in-memory backend. */
class FlowControlWorkerTest extends WorkerTestSupport {

  private void enqueue(String queue, int n) {
    List<Tasks.Job> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(new Tasks.Job(queue + i));
    }
    client.enqueueAll(JOB, jobs, TaskOptions.builder().queue(queue).build());
  }

  /** Which queue each started task came from, in start order. */
  private Map<String, Integer> firstStarts(List<String> starts, int n) {
    Map<String, Integer> counts = new TreeMap<>();
    synchronized (starts) {
      starts.subList(0, n).forEach(q -> counts.merge(q, 1, Integer::sum));
    }
    return counts;
  }

  @Test
  void roundRobinServesEveryQueueWithABacklogWithinTenPercentOfItsShare() {
    for (String q : List.of("a", "b", "c")) {
      enqueue(q, 600);
    }
    List<String> starts = Collections.synchronizedList(new ArrayList<>());
    startWorker(
        new TaskRegistry().handle(JOB, (j, ctx) -> add(starts, ctx.queue())),
        o -> o.queues("a", "b", "c").concurrency(4));

    await().atMost(WAIT).until(() -> starts.size() >= 900);
    // While all three had a backlog (each has 600, so none ran dry in the first 900)
    assertThat(firstStarts(starts, 900).values())
        .allSatisfy(n -> assertThat(n).isBetween(270, 330));
  }

  @Test
  void strictOrderDrainsTheFirstQueueBeforeTheNext() {
    enqueue("a", 200);
    enqueue("b", 200);
    List<String> starts = Collections.synchronizedList(new ArrayList<>());
    startWorker(
        new TaskRegistry().handle(JOB, (j, ctx) -> add(starts, ctx.queue())),
        o -> o.queues("a", "b").queueOrder(QueueOrder.STRICT).concurrency(4));

    await().atMost(WAIT).until(() -> starts.size() >= 400);
    assertThat(firstStarts(starts, 190)).containsOnlyKeys("a");
  }

  @Test
  void weightsServeQueuesInProportion() {
    for (String q : List.of("critical", "default", "low")) {
      enqueue(q, 800);
    }
    List<String> starts = Collections.synchronizedList(new ArrayList<>());
    startWorker(
        new TaskRegistry().handle(JOB, (j, ctx) -> add(starts, ctx.queue())),
        o ->
            o.queues("critical", "default", "low")
                .queueWeight("critical", 5)
                .queueWeight("default", 2)
                .concurrency(4));

    await().atMost(WAIT).until(() -> starts.size() >= 800);
    Map<String, Integer> counts = firstStarts(starts, 800);
    assertThat(counts.get("critical")).isBetween(450, 550);
    assertThat(counts.get("default")).isBetween(180, 220);
    assertThat(counts.get("low")).isBetween(90, 110);
  }

  @Test
  void aPausedQueueIsUntouchedWhileAnotherIsDrainedAndRunsOnceResumed() {
    backend.broker().pause("a");
    enqueue("a", 50);
    enqueue("b", 50);
    List<String> starts = Collections.synchronizedList(new ArrayList<>());
    startWorker(
        new TaskRegistry().handle(JOB, (j, ctx) -> add(starts, ctx.queue())),
        o -> o.queues("a", "b").concurrency(4));

    await().atMost(WAIT).until(() -> starts.size() >= 50);
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> starts.size() == 50);
    assertThat(starts).containsOnly("b");
    assertThat(backend.broker().stats("a").ready()).isEqualTo(50);

    backend.broker().resume("a");
    await().atMost(WAIT).until(() -> starts.size() == 100);
  }

  @Test
  void autoscalingGrowsToTheMaximumWhileTasksWaitAndShrinksWhenIdle() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    Worker w =
        startWorker(
            new TaskRegistry()
                .handle(
                    JOB,
                    (j, ctx) -> {
                      mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                      try {
                        release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                      } finally {
                        running.decrementAndGet();
                      }
                      return j.label();
                    }),
            o -> o.autoscale(1, 4).scaleDownAfter(Duration.ofMillis(300)));
    assertThat(w.info().concurrency()).isEqualTo(1);

    List<AsyncResult<String>> results = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      results.add(client.enqueue(JOB, new Tasks.Job("j" + i)));
    }
    await().atMost(WAIT).until(() -> running.get() == 4);
    assertThat(w.info().concurrency()).isEqualTo(4);
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> running.get() == 4);

    release.countDown();
    for (AsyncResult<String> r : results) {
      r.get(WAIT);
    }
    assertThat(mostAtOnce.get()).isEqualTo(4);
    await().atMost(WAIT).until(() -> w.info().concurrency() == 1);
  }

  /** One run of a task: which key, and when it started and ended (nanoTime). */
  private record Run(String key, long start, long end) {}

  @Test
  void aPerKeyConcurrencyLimitIsNeverExceededWhileOtherKeysRunFreely() throws Exception {
    List<Run> runs = Collections.synchronizedList(new ArrayList<>());
    TaskDef<Tasks.Job, String> task =
        TaskDef.builder("jobs.limited", Tasks.Job.class, String.class)
            .options(TaskOptions.builder().concurrencyLimit(2).build())
            .limitKey(j -> j.label().split("-")[0])
            .build();
    startWorker(
        new TaskRegistry()
            .handle(
                task,
                (j, ctx) -> {
                  long start = System.nanoTime();
                  Thread.sleep(20);
                  runs.add(new Run(j.label().split("-")[0], start, System.nanoTime()));
                  return j.label();
                }),
        o -> o.concurrency(8));
    List<AsyncResult<String>> results = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      results.add(client.enqueue(task, new Tasks.Job("hot-" + i)));
      results.add(client.enqueue(task, new Tasks.Job("cold" + i + "-x")));
    }
    for (AsyncResult<String> r : results) {
      r.get(WAIT);
    }
    assertThat(mostAtOnce(runs, "hot")).isEqualTo(2);
    // the twelve other keys, one task each, ran more than two at once
    assertThat(mostAtOnce(runs, null)).isGreaterThan(2);
  }

  /** The most runs of {@code key} (every key but "hot" when null) that overlapped. */
  private static int mostAtOnce(List<Run> runs, String key) {
    List<long[]> of = new ArrayList<>();
    synchronized (runs) {
      for (Run r : runs) {
        if (key == null ? !r.key().equals("hot") : r.key().equals(key)) {
          of.add(new long[] {r.start(), r.end()});
        }
      }
    }
    return dev.errand.test.FlowControlProof.mostAtOnce(of);
  }

  @Test
  void aRateLimitedTaskWaitsInTheBrokerForItsTurnWithoutBurningARetry() throws Exception {
    List<String> starts = Collections.synchronizedList(new ArrayList<>());
    startWorker(new TaskRegistry().handle(JOB, (j, ctx) -> add(starts, j.label())), o -> {});
    TaskOptions oncePerSecond = TaskOptions.builder().rateLimit("1/s").build();
    List<AsyncResult<String>> results = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      results.add(client.enqueue(JOB, new Tasks.Job("j" + i), oncePerSecond));
    }
    await().atMost(WAIT).until(() -> starts.size() == 1);
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> starts.size() == 1);
    assertThat(backend.broker().stats("default").limited()).isEqualTo(2);

    clock.advance(Duration.ofSeconds(1));
    await().atMost(WAIT).until(() -> starts.size() == 2);
    clock.advance(Duration.ofSeconds(1));
    for (AsyncResult<String> r : results) {
      r.get(WAIT);
    }
    assertThat(starts).containsExactly("j0", "j1", "j2");
    assertThat(results.get(2).status().retries()).isNullOrEmpty();
    assertThat(results.get(2).status().attempt()).isEqualTo(1);
  }

  @Test
  void aUniqueTaskIsNotEnqueuedTwiceWhileTheFirstIsQueuedOrRunning() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TaskDef<Tasks.Job, String> backup =
        TaskDef.builder("backups.nightly", Tasks.Job.class, String.class)
            .uniqueKey(j -> "backup:" + j.label())
            .build();
    startWorker(
        new TaskRegistry()
            .handle(
                backup,
                (j, ctx) -> {
                  release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                  return j.label();
                }),
        o -> {});
    AsyncResult<String> first = client.enqueue(backup, new Tasks.Job("db"));
    awaitState(first, dev.errand.TaskState.STARTED);
    AsyncResult<String> second = client.enqueue(backup, new Tasks.Job("db"));
    assertThat(second.id()).isEqualTo(first.id());
    AsyncResult<String> other = client.enqueue(backup, new Tasks.Job("files"));
    assertThat(other.id()).isNotEqualTo(first.id());

    release.countDown();
    first.get(WAIT);
    other.get(WAIT);
    AsyncResult<String> third = client.enqueue(backup, new Tasks.Job("db"));
    assertThat(third.id()).as("released when the first ended").isNotEqualTo(first.id());
    assertThat(third.get(WAIT)).isEqualTo("db");
  }

  private static String add(List<String> starts, String queue) {
    starts.add(queue);
    return queue;
  }
}
