package dev.errand.memory;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.BackendException;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.FakeClock;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the contract suite in errand-test does not cover: validation, close, memory bounds. */
class InMemoryBackendTest {

  static final Duration LEASE = Duration.ofSeconds(30);

  final FakeClock clock = new FakeClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Broker broker = backend.broker();

  @AfterEach
  void close() {
    backend.close();
  }

  static NewMessage message(String queue, String label) {
    return new NewMessage(
        UUID.randomUUID().toString(), queue, 5, label.getBytes(UTF_8), null, null, null);
  }

  static String label(Delivery d) {
    return new String(d.body(), UTF_8);
  }

  @Test
  void claimArgumentsAreValidatedAndNamed() {
    List<String> q = List.of("q");
    assertThatThrownBy(() -> broker.claim(List.of(), 1, LEASE, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("queues must not be empty");
    assertThatThrownBy(() -> broker.claim(q, 0, LEASE, Duration.ZERO))
        .hasMessage("max must be > 0 but was 0");
    assertThatThrownBy(() -> broker.claim(q, 1, Duration.ZERO, Duration.ZERO))
        .hasMessage("lease must be > 0 but was PT0S");
    assertThatThrownBy(() -> broker.claim(q, 1, LEASE, Duration.ofMillis(-1)))
        .hasMessage("wait must be >= 0 but was PT-0.001S");
    assertThatThrownBy(() -> broker.renew(List.of(), Duration.ofSeconds(-5)))
        .hasMessage("lease must be > 0 but was PT-5S");
  }

  @Test
  void timesToLiveAndCapacitiesAreValidatedAndNamed() {
    NewMessage zeroWindow = new NewMessage("id", "q", 5, new byte[0], null, "key", Duration.ZERO);
    assertThatThrownBy(() -> broker.enqueue(List.of(zeroWindow)))
        .hasMessage("idempotencyWindow must be > 0 but was PT0S");
    assertThatThrownBy(() -> backend.results().put(TaskStatus.pending("t"), Duration.ZERO))
        .hasMessage("ttl must be > 0 but was PT0S");
    assertThatThrownBy(() -> backend.results().claimOnce("k", Duration.ofSeconds(-1)))
        .hasMessage("ttl must be > 0 but was PT-1S");
    assertThatThrownBy(() -> new InMemoryBackend(clock, 0))
        .hasMessage("eventCapacity must be > 0 but was 0");
    assertThatThrownBy(() -> backend.deadLetters().list(null, -1, 10))
        .hasMessage("offset and limit must be >= 0 but were -1 and 10");
  }

  @Test
  void closeEndsWaitingClaimsAndRefusesNewWork() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<Delivery>> waiting =
          pool.submit(() -> broker.claim(List.of("q"), 1, LEASE, Duration.ofMinutes(5)));
      await()
          .during(Duration.ofMillis(200))
          .atMost(Duration.ofSeconds(10))
          .until(() -> !waiting.isDone());
      CompletableFuture<TaskStatus> result = backend.results().whenReady("t-1");

      backend.close();
      backend.close(); // idempotent

      assertThat(waiting.get(10, TimeUnit.SECONDS)).isEmpty();
      assertThatThrownBy(() -> result.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(BackendException.class);
      assertThatThrownBy(() -> broker.enqueue(List.of(message("q", "late"))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("backend memory: is closed");
      assertThatThrownBy(() -> broker.claim(List.of("q"), 1, LEASE, Duration.ZERO))
          .isInstanceOf(IllegalStateException.class);
      assertThat(backend.results().whenReady("t-2")).isCompletedExceptionally();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void waitersAreNotHeldOnceCancelledOrCompleted() {
    MemoryResultStore results = (MemoryResultStore) backend.results();
    for (int i = 0; i < 100; i++) {
      results.whenReady("t-1").cancel(false);
    }
    CompletableFuture<TaskStatus> kept = results.whenReady("t-1");
    assertThat(results.waiterCount()).isEqualTo(1);

    results.put(TaskStatus.pending("t-1").withState(TaskState.SUCCESS, clock.instant()), LEASE);

    assertThat(kept).isDone();
    assertThat(results.waiterCount()).isZero();
  }

  @Test
  void bodiesAreCopiedInAndOut() throws Exception {
    byte[] body = "original".getBytes(UTF_8);
    broker.enqueue(List.of(new NewMessage("m", "q", 5, body, null, null, null)));
    body[0] = 'X';
    Delivery first = broker.claim(List.of("q"), 1, LEASE, Duration.ZERO).get(0);
    first.body()[0] = 'Y';

    clock.advance(LEASE.plusSeconds(1));

    assertThat(label(broker.claim(List.of("q"), 1, LEASE, Duration.ZERO).get(0)))
        .isEqualTo("original");
  }

  @Test
  void messagesTakeTheirPlaceByTheTimeTheyBecameReady() throws Exception {
    broker.enqueue(
        List.of(
            new NewMessage(
                "due",
                "q",
                5,
                "due-at-5s".getBytes(UTF_8),
                clock.instant().plusSeconds(5),
                null,
                null)));
    clock.advance(Duration.ofSeconds(1));
    broker.enqueue(List.of(message("q", "ready-at-1s")));
    clock.advance(Duration.ofSeconds(9));
    broker.enqueue(List.of(message("q", "ready-at-10s")));

    List<Delivery> all = broker.claim(List.of("q"), 10, LEASE, Duration.ZERO);

    assertThat(all)
        .extracting(InMemoryBackendTest::label)
        .containsExactly("ready-at-1s", "due-at-5s", "ready-at-10s");
  }

  @Test
  void emptiedQueueIsListedForAnHourThenForgotten() throws Exception {
    broker.enqueue(List.of(message("q", "a")));
    broker.ack(broker.claim(List.of("q"), 1, LEASE, Duration.ZERO).get(0));

    clock.advance(MemoryBroker.RECENT);
    assertThat(broker.queues()).containsExactly("q");
    clock.advance(Duration.ofSeconds(1));
    assertThat(broker.queues()).isEmpty();
  }

  @Test
  void eventsOfOneTaskAreFoundAcrossPagesOfTheLog() {
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < 3_500; i++) {
      String id = i % 1_000 == 7 ? "wanted" : "t" + i; // at 7, 1007, 2007 and 3007
      events.add(new Event(0, EventType.TASK_SENT, clock.instant(), id, null, null, null, null));
    }
    backend.events().publish(events);

    assertThat(backend.events().forTask("wanted", 10))
        .extracting(Event::seq)
        .containsExactly(8L, 1008L, 2008L, 3008L);
    assertThat(backend.events().forTask("wanted", 3)).hasSize(3);
  }

  @Test
  void eventLogKeepsTheDefaultCapacity() {
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < InMemoryBackend.DEFAULT_EVENT_CAPACITY + 5; i++) {
      events.add(
          new Event(0, EventType.TASK_SENT, clock.instant(), "t" + i, null, null, null, null));
    }
    backend.events().publish(events);

    List<Event> kept = backend.events().read(0, Integer.MAX_VALUE);
    assertThat(backend.eventCapacity()).isEqualTo(10_000);
    assertThat(kept).hasSize(10_000);
    assertThat(kept.get(0).taskId()).isEqualTo("t5");
    assertThat(kept.get(0).seq()).isEqualTo(6);
  }

  @Test
  void workersAreListedByName() {
    for (String name : List.of("c", "a", "b")) {
      backend
          .workers()
          .heartbeat(
              new WorkerInfo(
                  name,
                  "h",
                  1,
                  List.of("q"),
                  1,
                  "threads",
                  clock.instant(),
                  clock.instant(),
                  List.of(),
                  0,
                  0,
                  true),
              LEASE);
    }

    assertThat(backend.workers().live())
        .extracting(WorkerInfo::name)
        .containsExactly("a", "b", "c");
  }
}
