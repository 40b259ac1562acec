package dev.errand.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskDef;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.WorkerInfo;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.test.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Gauges of the operator's view of a live in-memory backend, on a controllable clock. */
class BackendMetricsTest {

  static final TaskDef<String, Void> MAIL = TaskDef.of("mail.send", String.class);

  /** Longer than any test: the background thread reads once at the start, then not again. */
  static final Duration NEVER_AGAIN = Duration.ofHours(1);

  static final Duration WAIT = Duration.ofSeconds(10);

  final MutableClock clock = new MutableClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).build();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  BackendMetrics metrics;

  @AfterEach
  void close() {
    if (metrics != null) {
      metrics.close();
    }
    backend.close();
  }

  BackendMetrics start(Backend b) {
    metrics = BackendMetrics.builder(b).interval(NEVER_AGAIN).clock(clock).build();
    metrics.bindTo(registry);
    return metrics;
  }

  @Test
  void readsDepthLagDeadLettersConsumersAndWorkersFromTheView() {
    start(backend);
    client.enqueue(MAIL, "a");
    client.enqueue(MAIL, "b");
    clock.advance(Duration.ofSeconds(30));
    client.enqueue(MAIL, "later", TaskOptions.builder().countdown(Duration.ofMinutes(5)).build());
    backend.deadLetters().add(deadLetter("dl-1", "default"));
    heartbeat("w-1", false, "default");

    metrics.refresh();

    assertThat(gauge("errand.queue.ready", "default")).isEqualTo(2);
    assertThat(gauge("errand.queue.delayed", "default")).isEqualTo(1);
    assertThat(gauge("errand.queue.leased", "default")).isZero();
    assertThat(gauge("errand.queue.consumers", "default")).as("its worker is stuck").isZero();
    assertThat(lagSeconds("default")).isEqualTo(30);
    assertThat(gauge("errand.dead.letters", "default")).isEqualTo(1);
    assertThat(registry.get("errand.workers").gauge().value()).isEqualTo(1);
    assertThat(registry.get("errand.workers.not.consuming").gauge().value()).isEqualTo(1);
    assertThat(registry.get("errand.backend.up").gauge().value()).isEqualTo(1);

    // The lag grows with the next read, and a queue seen later gets gauges of its own.
    clock.advance(Duration.ofSeconds(15));
    client.enqueue(MAIL, "c", TaskOptions.builder().queue("bulk").build());
    metrics.refresh();
    assertThat(lagSeconds("default")).isEqualTo(45);
    assertThat(gauge("errand.queue.ready", "bulk")).isEqualTo(1);

    // A registry bound after queues were seen gets their gauges too.
    SimpleMeterRegistry late = new SimpleMeterRegistry();
    metrics.bindTo(late);
    assertThat(late.get("errand.queue.ready").tag("queue", "bulk").gauge().value()).isEqualTo(1);
  }

  @Test
  void aDeadLetterInAnEmptyQueueWithNoWorkerIsReported() {
    start(backend);
    backend.deadLetters().add(deadLetter("dl-1", "reports"));
    backend.deadLetters().add(deadLetter("dl-2", "reports"));

    metrics.refresh();

    assertThat(gauge("errand.dead.letters", "reports")).isEqualTo(2);
    assertThat(gauge("errand.queue.ready", "reports")).isZero();
  }

  @Test
  void theBackendIsReadInTheBackgroundNeverByReadingTheGauges() {
    AtomicInteger reads = new AtomicInteger();
    client.enqueue(MAIL, "a");
    start(watched(backend, reads, new AtomicBoolean(), null));
    await().atMost(WAIT).untilAsserted(() -> assertThat(reads).hasValue(1));
    clock.advance(Duration.ofMinutes(5));

    for (int i = 0; i < 5; i++) {
      assertThat(gauge("errand.queue.ready", "default")).isEqualTo(1);
      registry.get("errand.backend.up").gauge().value();
    }

    assertThat(reads).as("scrapes read what the background read").hasValue(1);
  }

  @Test
  void aReadThatHangsReportsTheBackendDownAfterTheTimeoutWhileGaugesAnswerAtOnce()
      throws Exception {
    AtomicInteger reads = new AtomicInteger();
    CountDownLatch hung = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean hang = new AtomicBoolean();
    client.enqueue(MAIL, "a");
    Backend slow = watched(backend, reads, new AtomicBoolean(), () -> hang(hang, hung, release));
    metrics =
        BackendMetrics.builder(slow)
            .interval(NEVER_AGAIN)
            .timeout(Duration.ofSeconds(2))
            .clock(clock)
            .build();
    metrics.bindTo(registry);
    await().atMost(WAIT).untilAsserted(() -> assertThat(up()).isEqualTo(1));

    hang.set(true);
    Thread reader = new Thread(metrics::refresh, "hung-read");
    reader.start();
    assertThat(hung.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(up()).as("a read of under 2 s is not overdue yet").isEqualTo(1);
    clock.advance(Duration.ofMillis(2001));

    assertTimeoutPreemptively(
        WAIT,
        () -> {
          assertThat(up()).isZero();
          assertThat(gauge("errand.queue.ready", "default")).isEqualTo(1);
        });

    release.countDown();
    reader.join(WAIT.toMillis());
    assertThat(up()).as("the read came back").isEqualTo(1);
  }

  @Test
  void aReadThatFailsKeepsTheLastValuesAndReportsDown() {
    AtomicBoolean down = new AtomicBoolean();
    start(watched(backend, new AtomicInteger(), down, null));
    client.enqueue(MAIL, "a");
    metrics.refresh();

    down.set(true);
    metrics.refresh();
    assertThat(up()).isZero();
    assertThat(gauge("errand.queue.ready", "default")).isEqualTo(1);

    down.set(false);
    metrics.refresh();
    assertThat(up()).isEqualTo(1);
  }

  @Test
  void noReadForIntervalAndTimeoutReportsDown() {
    start(backend);
    metrics.refresh();
    assertThat(up()).isEqualTo(1);

    clock.advance(NEVER_AGAIN.plus(BackendMetrics.DEFAULT_TIMEOUT).plusMillis(1));

    assertThat(up()).as("the reads stopped").isZero();
  }

  @Test
  void theGaugesOfAQueueThatLeftTheViewAreRemoved() {
    start(backend);
    client.enqueue(MAIL, "x", TaskOptions.builder().queue("bulk").build());
    metrics.refresh();
    assertThat(gauge("errand.queue.ready", "bulk")).isEqualTo(1);

    backend.broker().purge("bulk");
    // the in-memory broker forgets an empty queue an hour after its last use
    clock.advance(Duration.ofHours(2));
    metrics.refresh();

    assertThat(registry.find("errand.queue.ready").tag("queue", "bulk").gauge()).isNull();
    assertThat(registry.find("errand.queue.lag").tag("queue", "bulk").timeGauge()).isNull();
    assertThat(registry.find("errand.dead.letters").tag("queue", "bulk").gauge()).isNull();
    assertThat(registry.getMeters())
        .noneMatch(m -> "bulk".equals(m.getId().getTag("queue")))
        .anyMatch(m -> m.getId().getName().equals("errand.backend.up"));

    // It comes back with new messages.
    client.enqueue(MAIL, "y", TaskOptions.builder().queue("bulk").build());
    metrics.refresh();
    assertThat(gauge("errand.queue.ready", "bulk")).isEqualTo(1);
  }

  @Test
  void badSettingsAreRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> BackendMetrics.builder(backend).interval(Duration.ZERO))
        .hasMessage("interval must be > 0 but was PT0S");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> BackendMetrics.builder(backend).timeout(Duration.ofSeconds(-1)))
        .hasMessage("timeout must be > 0 but was PT-1S");
  }

  private double up() {
    return registry.get("errand.backend.up").gauge().value();
  }

  private double lagSeconds(String queue) {
    return registry.get("errand.queue.lag").tag("queue", queue).timeGauge().value(TimeUnit.SECONDS);
  }

  private double gauge(String name, String queue) {
    return registry.get(name).tag("queue", queue).gauge().value();
  }

  private void heartbeat(String name, boolean consuming, String... queues) {
    var now = clock.instant();
    backend
        .workers()
        .heartbeat(
            new WorkerInfo(
                name,
                "host",
                1,
                List.of(queues),
                4,
                "threads",
                now,
                now,
                List.of(),
                0,
                0,
                consuming),
            Duration.ofMinutes(10));
  }

  private DeadLetter deadLetter(String id, String queue) {
    return new DeadLetter(
        id,
        "mail.send",
        queue,
        DeadLetterReason.FAILED,
        TaskError.of("IOException", "smtp down"),
        null,
        null,
        "{}",
        3,
        clock.instant(),
        clock.instant());
  }

  private static void hang(AtomicBoolean hang, CountDownLatch hung, CountDownLatch release) {
    if (hang.get()) {
      hung.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * {@code backend} whose broker counts {@code queues()} calls, fails them while {@code down}, and
   * runs {@code before} (if any) first.
   */
  private static Backend watched(
      Backend backend, AtomicInteger reads, AtomicBoolean down, Runnable before) {
    Broker broker =
        (Broker)
            Proxy.newProxyInstance(
                Broker.class.getClassLoader(),
                new Class<?>[] {Broker.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("queues")) {
                    reads.incrementAndGet();
                    if (before != null) {
                      before.run();
                    }
                    if (down.get()) {
                      throw new IllegalStateException("connection refused");
                    }
                  }
                  try {
                    return method.invoke(backend.broker(), args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    return (Backend)
        Proxy.newProxyInstance(
            Backend.class.getClassLoader(),
            new Class<?>[] {Backend.class},
            (proxy, method, args) -> {
              if (method.getName().equals("broker")) {
                return broker;
              }
              try {
                return method.invoke(backend, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
