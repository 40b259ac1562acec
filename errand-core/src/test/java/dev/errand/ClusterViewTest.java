package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.ForwardingBackend;
import dev.errand.spi.ForwardingBroker;
import dev.errand.spi.NewMessage;
import dev.errand.spi.WorkerRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The operator's view on the in-memory backend: which queues it shows, and what it counts. */
class ClusterViewTest {

  final FakeClock clock = new FakeClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);

  @AfterEach
  void close() {
    backend.close();
  }

  @Test
  void aDeadLetterShowsItsQueueWhenTheQueueIsEmptyAndNoWorkerIsAlive() {
    backend.deadLetters().add(deadLetter("dl-1", "reports"));
    backend.deadLetters().add(deadLetter("dl-2", "reports"));

    ClusterView view = ClusterView.read(backend, clock);

    assertThat(view.queues()).extracting(ClusterView.Queue::name).containsExactly("reports");
    ClusterView.Queue reports = view.queue("reports").orElseThrow();
    assertThat(reports.dead()).isEqualTo(2);
    assertThat(reports.ready()).isZero();
    assertThat(reports.consumers()).isZero();
    assertThat(reports.unconsumed()).as("nothing is ready, so nothing waits").isFalse();
    assertThat(view.totals().dead()).isEqualTo(2);
    assertThat(view.workers()).isEmpty();
  }

  @Test
  void queuesAreTheBrokersTheWorkersAndTheDeadLettersOnesSortedNaturally() {
    enqueue("q10", 5);
    enqueue("q2", 5);
    heartbeat("w-1", true, "q1", "q2");
    backend.deadLetters().add(deadLetter("dl", "q9"));

    ClusterView view = ClusterView.read(backend, clock);

    assertThat(view.queues())
        .extracting(ClusterView.Queue::name)
        .containsExactly("q1", "q2", "q9", "q10");
  }

  @Test
  void countsDepthLagConsumersAndFlagsReadyQueuesNobodyConsumes() {
    enqueue("mail", 9);
    enqueue("mail", 9);
    enqueue("mail", 0);
    enqueue("reports", 5);
    clock.advance(Duration.ofSeconds(42));
    heartbeat("w-10", true, "mail");
    heartbeat("w-2", true, "mail", "mail");
    heartbeat("w-3", false, "reports");

    ClusterView view = ClusterView.read(backend, clock);

    ClusterView.Queue mail = view.queue("mail").orElseThrow();
    assertThat(mail.ready()).isEqualTo(3);
    assertThat(mail.readyByPriority()).containsExactly(Map.entry(9, 2L), Map.entry(0, 1L));
    assertThat(mail.lag()).isEqualTo(Duration.ofSeconds(42));
    assertThat(mail.consumers()).as("a queue listed twice by one worker counts once").isEqualTo(2);
    assertThat(mail.unconsumed()).isFalse();
    ClusterView.Queue reports = view.queue("reports").orElseThrow();
    assertThat(reports.consumers()).as("its only worker is stuck").isZero();
    assertThat(reports.unconsumed()).isTrue();
    assertThat(view.workers()).extracting(WorkerInfo::name).containsExactly("w-2", "w-3", "w-10");
    assertThat(view.totals()).isEqualTo(new ClusterView.Totals(4, 0, 0, 0, 3, 1, 0, 1));
    assertThat(view.readAt()).isEqualTo(clock.instant());
  }

  @Test
  void readsEachCollectionOnceAndEachQueuesStatsOnce() {
    enqueue("a", 5);
    enqueue("b", 5);
    heartbeat("w", true, "a", "c");
    backend.deadLetters().add(deadLetter("dl", "d"));
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    ClusterView.read(counting(backend, calls), clock);

    assertThat(calls)
        .containsOnlyKeys("queues", "live", "countByQueue", "stats", "shards")
        .allSatisfy(
            (method, n) ->
                assertThat(n).hasValue(method.equals("stats") || method.equals("shards") ? 4 : 1));
  }

  @Test
  void showsHowManyShardsEachQueueIsSpreadOver() {
    enqueue("hot", 5);
    enqueue("cold", 5);
    Broker shardedBroker =
        new ForwardingBroker(backend.broker()) {
          @Override
          public int shards(String queue) {
            return queue.equals("hot") ? 4 : 1;
          }
        };
    Backend sharded =
        new ForwardingBackend(backend) {
          @Override
          public Broker broker() {
            return shardedBroker;
          }
        };

    ClusterView view = ClusterView.read(sharded, clock);

    assertThat(view.queue("hot").orElseThrow().shards()).isEqualTo(4);
    assertThat(view.queue("cold").orElseThrow().shards()).isEqualTo(1);
  }

  @Test
  void naturalOrderComparesDigitRunsAsNumbersAndIsTotal() {
    List<String> names =
        new ArrayList<>(List.of("q10", "q2", "q1a", "q1", "q01", "b", "a10b2", "a10b10", "a9"));
    names.sort(ClusterView.NATURAL_ORDER);
    assertThat(names)
        .containsExactly("a9", "a10b2", "a10b10", "b", "q01", "q1", "q1a", "q2", "q10");
  }

  private void enqueue(String queue, int priority) {
    backend
        .broker()
        .enqueue(
            List.of(
                new NewMessage(
                    java.util.UUID.randomUUID().toString(),
                    queue,
                    priority,
                    "{}".getBytes(StandardCharsets.UTF_8),
                    null,
                    null,
                    null)));
  }

  private void heartbeat(String name, boolean consuming, String... queues) {
    Instant now = clock.instant();
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
            Duration.ofMinutes(1));
  }

  private DeadLetter deadLetter(String id, String queue) {
    return new DeadLetter(
        id,
        "reports.build",
        queue,
        DeadLetterReason.FAILED,
        TaskError.of("IOException", "disk full"),
        null,
        null,
        "{}",
        3,
        null,
        clock.instant());
  }

  /** {@code backend} counting calls to the methods of its broker, registry and dead letters. */
  private static Backend counting(Backend backend, Map<String, AtomicInteger> calls) {
    Wrap count =
        (method, value) -> {
          calls.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
          return value;
        };
    return proxy(
        Backend.class,
        backend,
        (method, target) ->
            switch (method) {
              case "broker" -> proxy(Broker.class, target, count);
              case "workers" -> proxy(WorkerRegistry.class, target, count);
              case "deadLetters" -> proxy(DeadLetterStore.class, target, count);
              default -> target;
            });
  }

  private interface Wrap {
    Object apply(String method, Object value);
  }

  private static <T> T proxy(Class<T> type, Object target, Wrap wrap) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (p, method, args) -> {
              try {
                return wrap.apply(method.getName(), method.invoke(target, args));
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            }));
  }
}
