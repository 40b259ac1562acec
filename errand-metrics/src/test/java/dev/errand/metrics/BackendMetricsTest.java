package dev.errand.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskDef;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.test.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Gauges read from a live in-memory backend on a controllable clock. */
class BackendMetricsTest {

  static final TaskDef<String, Void> MAIL = TaskDef.of("mail.send", String.class);

  final MutableClock clock = new MutableClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).build();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @AfterEach
  void close() {
    backend.close();
  }

  @Test
  void readsDepthLagDeadLettersAndWorkersFromTheBackend() {
    BackendMetrics metrics = new BackendMetrics(backend, Duration.ZERO, clock);
    metrics.bindTo(registry);
    client.enqueue(MAIL, "a");
    client.enqueue(MAIL, "b");
    clock.advance(Duration.ofSeconds(30));
    client.enqueue(MAIL, "later", TaskOptions.builder().countdown(Duration.ofMinutes(5)).build());
    backend
        .deadLetters()
        .add(
            new DeadLetter(
                "dl-1",
                "mail.send",
                "default",
                DeadLetterReason.FAILED,
                TaskError.of("IOException", "smtp down"),
                null,
                null,
                "{}",
                3,
                clock.instant(),
                clock.instant()));

    metrics.refresh();

    assertThat(gauge("errand.queue.ready", "default")).isEqualTo(2);
    assertThat(gauge("errand.queue.delayed", "default")).isEqualTo(1);
    assertThat(gauge("errand.queue.leased", "default")).isZero();
    assertThat(lagSeconds("default")).isEqualTo(30);
    assertThat(gauge("errand.dead.letters", "default")).isEqualTo(1);
    assertThat(registry.get("errand.workers").gauge().value()).isZero();
    assertThat(registry.get("errand.backend.up").gauge().value()).isEqualTo(1);

    // The lag grows with the clock, and a queue seen later gets gauges of its own.
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
  void readsTheBackendAtMostOncePerMaxAgeHoweverManyGaugesAreRead() {
    AtomicInteger reads = new AtomicInteger();
    Backend counting = countingQueues(backend, reads, new AtomicBoolean());
    BackendMetrics metrics = new BackendMetrics(counting, Duration.ofSeconds(1), clock);
    metrics.bindTo(registry);
    client.enqueue(MAIL, "a");
    metrics.refresh();
    reads.set(0);

    for (int i = 0; i < 5; i++) {
      gauge("errand.queue.ready", "default");
      gauge("errand.queue.delayed", "default");
    }
    assertThat(reads).hasValue(0);
    clock.advance(Duration.ofSeconds(1));
    assertThat(gauge("errand.queue.ready", "default")).isEqualTo(1);
    assertThat(reads).hasValue(1);
  }

  @Test
  void aBackendThatCannotBeReadKeepsTheLastValuesAndReportsDown() {
    AtomicBoolean down = new AtomicBoolean();
    BackendMetrics metrics =
        new BackendMetrics(
            countingQueues(backend, new AtomicInteger(), down), Duration.ZERO, clock);
    metrics.bindTo(registry);
    client.enqueue(MAIL, "a");
    metrics.refresh();

    down.set(true);
    metrics.refresh();
    assertThat(registry.get("errand.backend.up").gauge().value()).isZero();
    assertThat(gauge("errand.queue.ready", "default")).isEqualTo(1);

    down.set(false);
    metrics.refresh();
    assertThat(registry.get("errand.backend.up").gauge().value()).isEqualTo(1);
  }

  private double lagSeconds(String queue) {
    return registry.get("errand.queue.lag").tag("queue", queue).timeGauge().value(TimeUnit.SECONDS);
  }

  private double gauge(String name, String queue) {
    return registry.get(name).tag("queue", queue).gauge().value();
  }

  /** {@code backend} whose broker counts {@code queues()} calls and fails them while down. */
  private static Backend countingQueues(Backend backend, AtomicInteger reads, AtomicBoolean down) {
    Broker broker =
        (Broker)
            Proxy.newProxyInstance(
                Broker.class.getClassLoader(),
                new Class<?>[] {Broker.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("queues")) {
                    reads.incrementAndGet();
                    if (down.get()) {
                      throw new IllegalStateException("connection refused");
                    }
                  }
                  try {
                    return method.invoke(backend.broker(), args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
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
              } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
