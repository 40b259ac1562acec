package dev.errand.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.memory.InMemoryBackend;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkerOptionsTest {

  @Test
  void badValuesAreRefusedWithTheValueNamed() {
    assertThatThrownBy(() -> WorkerOptions.builder().concurrency(0))
        .hasMessage("concurrency must be > 0 but was 0");
    assertThatThrownBy(() -> WorkerOptions.builder().prefetch(-1))
        .hasMessage("prefetch must be >= 0 but was -1");
    assertThatThrownBy(() -> WorkerOptions.builder().leaseDuration(Duration.ofMillis(10)))
        .hasMessage("leaseDuration must be >= 1s but was PT0.01S");
    assertThatThrownBy(() -> WorkerOptions.builder().queues("a", "a"))
        .hasMessageContaining("queue 'a' is listed twice");
    assertThatThrownBy(() -> WorkerOptions.builder().queues("has space"))
        .hasMessageContaining("'has space'");
    assertThatThrownBy(
            () ->
                WorkerOptions.builder()
                    .leaseDuration(Duration.ofSeconds(10))
                    .leaseRenewInterval(Duration.ofSeconds(10))
                    .build())
        .hasMessage("leaseRenewInterval must be < leaseDuration (PT10S) but was PT10S");
    assertThatThrownBy(() -> Pool.fromLabel("forks"))
        .hasMessage("pool must be threads or virtual but was 'forks'");
  }

  @Test
  void defaultsDeriveFromConcurrencyAndLease() {
    WorkerOptions o =
        WorkerOptions.builder().concurrency(7).leaseDuration(Duration.ofSeconds(30)).build();
    assertThat(o.prefetch()).isEqualTo(7);
    assertThat(o.leaseRenewInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.queues()).containsExactly("default");
    assertThat(o.pool()).isEqualTo(Pool.THREADS);
  }

  @Test
  void workerWithoutTasksIsRefused() {
    try (InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC())) {
      assertThatThrownBy(() -> Worker.builder(backend).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("no task is registered");
    }
  }

  @Test
  void virtualPoolRunsTasksOnJava21AndIsRefusedClearlyBefore() throws Exception {
    try (InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC())) {
      Worker.Builder b =
          Worker.builder(backend)
              .handle(
                  Tasks.JOB,
                  (job, ctx) ->
                      Thread.currentThread().getClass().getSimpleName().equals("VirtualThread")
                          ? "virtual"
                          : "platform")
              .options(
                  WorkerOptions.builder()
                      .pool(Pool.VIRTUAL)
                      .pollInterval(Duration.ofMillis(50))
                      .build());
      if (Runtime.version().feature() < 21) {
        assertThatThrownBy(b::build)
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("pool 'virtual' needs Java 21 or newer");
        return;
      }
      try (Worker w = b.build().start()) {
        String r =
            dev.errand.Client.create(backend)
                .enqueue(Tasks.JOB, new Tasks.Job("x"))
                .get(Duration.ofSeconds(10));
        assertThat(r).isEqualTo("virtual");
      }
    }
  }
}
