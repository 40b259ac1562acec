package dev.errand.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskState;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spring.ErrandTask;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The worker stops with the context the way {@code errand worker} stops on SIGTERM: the running
 * task finishes within the shutdown timeout, and what the worker had claimed but not started is
 * handed back at once, ready for another worker, not left leased.
 */
class ErrandWorkerLifecycleTest {

  static final TaskDef<Integer, Integer> SLOW =
      TaskDef.of("slow.echo", Integer.class, Integer.class);
  static final CountDownLatch started = new CountDownLatch(1);

  static class SlowTasks {
    @ErrandTask("slow.echo")
    int echo(int n) throws InterruptedException {
      started.countDown();
      Thread.sleep(700);
      return n;
    }
  }

  @Test
  void closingTheContextFinishesTheRunningTaskAndHandsTheRestBack() throws Exception {
    // One backend outlives the context, as Redis or PostgreSQL would.
    InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC());
    List<AsyncResult<Integer>> results = new ArrayList<>();
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ErrandAutoConfiguration.class))
        // A view that the context's close leaves open (it closes its Backend beans).
        .withBean(
            Backend.class,
            () -> new dev.errand.spring.tx.TransactionAwareBackend(backend, null, false))
        .withBean(SlowTasks.class)
        .withPropertyValues(
            "errand.worker.enabled=true",
            "errand.worker.concurrency=1",
            "errand.worker.prefetch=4",
            "errand.worker.shutdown-timeout=10s")
        .run(
            ctx -> {
              Client client = ctx.getBean(Client.class);
              for (int i = 0; i < 5; i++) {
                results.add(client.enqueue(SLOW, i));
              }
              assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
              await()
                  .atMost(Duration.ofSeconds(5))
                  .until(() -> backend.broker().stats("default").leased() > 1);
            }); // the context closes here
    assertThat(results.get(0).status().state()).isEqualTo(TaskState.SUCCESS);
    var stats = backend.broker().stats("default");
    assertThat(stats.leased()).isZero();
    long finished = results.stream().filter(r -> r.status().state() == TaskState.SUCCESS).count();
    assertThat(stats.ready() + finished).isEqualTo(5);
    backend.close();
  }
}
