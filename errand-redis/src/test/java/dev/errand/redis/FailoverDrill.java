package dev.errand.redis;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;

/**
 * A master killed mid-drain, measured: a producer sends tasks at a steady pace while a worker
 * (another connection, as another process would have) runs them; a third of the way in the master
 * is SIGKILLed and its replica promoted, and both carry on by themselves. Then it counts what the
 * producer was told was enqueued, what it was told failed, what ran, what never ran (lost) and what
 * ran more than once.
 */
final class FailoverDrill {

  static final TaskDef<Integer, Integer> RECORD =
      TaskDef.builder("drill.record", Integer.class, Integer.class).build();

  /**
   * What the drill saw.
   *
   * @param acknowledged enqueues that returned normally
   * @param rejected enqueues that threw (the producer knows; not lost)
   * @param ran distinct acknowledged tasks that ran
   * @param lost acknowledged tasks that never ran
   * @param duplicated extra runs (a task run twice counts one)
   * @param enqueuedAfterMillis from the kill to the first enqueue after it that returned normally
   * @param recoveredAfterMillis from the kill to the first task enqueued and run after it
   */
  record Outcome(
      int acknowledged,
      int rejected,
      int ran,
      int lost,
      int duplicated,
      long enqueuedAfterMillis,
      long recoveredAfterMillis) {

    @Override
    public String toString() {
      return acknowledged
          + " acknowledged, "
          + rejected
          + " rejected, "
          + ran
          + " ran, "
          + lost
          + " lost, "
          + duplicated
          + " duplicated; enqueues work again "
          + enqueuedAfterMillis
          + " ms and runs "
          + recoveredAfterMillis
          + " ms after the kill";
    }
  }

  private FailoverDrill() {}

  /**
   * Runs the drill on the backend at {@code url}.
   *
   * @param kill kills the master (returns at once; the drill does not wait for the failover)
   */
  static Outcome run(String url, int tasks, Runnable kill) throws InterruptedException {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger rejected = new AtomicInteger();
    AtomicLong killedAt = new AtomicLong();
    AtomicLong firstAfterKill = new AtomicLong();
    AtomicLong enqueuedAgain = new AtomicLong();
    try (RedisBackend workerSide = RedisBackend.open(url);
        RedisBackend producerSide = RedisBackend.open(url)) {
      Worker worker =
          Worker.builder(workerSide)
              .handle(
                  RECORD,
                  (n, ctx) -> {
                    runs.computeIfAbsent(ctx.id(), k -> new AtomicInteger()).incrementAndGet();
                    if (n < 0 && firstAfterKill.get() == 0) {
                      firstAfterKill.compareAndSet(0, System.currentTimeMillis());
                    }
                    Thread.sleep(2);
                    return n;
                  })
              .options(
                  WorkerOptions.builder()
                      .name("drill-" + System.nanoTime())
                      .queues("default")
                      .concurrency(8)
                      .leaseDuration(Duration.ofSeconds(3))
                      .build())
              .build()
              .start();
      try {
        Client client = Client.create(producerSide);
        for (int i = 0; i < tasks; i++) {
          if (i == tasks / 3) {
            killedAt.set(System.currentTimeMillis());
            kill.run();
          }
          // After the kill, tasks carry a negative number: the first of them to run marks when
          // the whole path (enqueue, claim, run) works again.
          int n = killedAt.get() == 0 ? i + 1 : -(i + 1);
          try {
            AsyncResult<Integer> r = client.enqueue(RECORD, n);
            acknowledged.add(r.id());
            if (n < 0 && enqueuedAgain.get() == 0) {
              enqueuedAgain.set(System.currentTimeMillis());
            }
          } catch (RuntimeException e) {
            if (rejected.incrementAndGet() <= 3) {
              System.out.println(
                  "[errand-test] failover drill: enqueue failed "
                      + (System.currentTimeMillis() - killedAt.get())
                      + " ms after the kill: "
                      + e);
            }
          }
          Thread.sleep(1);
        }
        // Everything acknowledged runs, or it never will: a lease is 3 s, an outbox entry is
        // swept after 30 s.
        try {
          Awaitility.await()
              .atMost(Duration.ofSeconds(75))
              .pollInterval(Duration.ofMillis(200))
              .until(() -> runs.keySet().containsAll(acknowledged));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          // counted as lost below
        }
      } finally {
        // A worker whose outcome writes cannot land waits for them when closed: bounded here.
        Thread closing = new Thread(worker::close, "drill-worker-close");
        closing.setDaemon(true);
        closing.start();
        closing.join(30_000);
      }
    }
    int ran = 0;
    int duplicated = 0;
    for (String id : acknowledged) {
      AtomicInteger n = runs.get(id);
      if (n != null) {
        ran++;
        duplicated += n.get() - 1;
      }
    }
    return new Outcome(
        acknowledged.size(),
        rejected.get(),
        ran,
        acknowledged.size() - ran,
        duplicated,
        enqueuedAgain.get() == 0 ? -1 : enqueuedAgain.get() - killedAt.get(),
        firstAfterKill.get() == 0 ? -1 : firstAfterKill.get() - killedAt.get());
  }

  /** For the tests' reports. */
  static void report(String what, Outcome o) {
    System.out.println("[errand-test] failover drill, " + what + ": " + o);
  }
}
