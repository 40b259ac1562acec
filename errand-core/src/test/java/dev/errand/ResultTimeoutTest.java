package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.WorkerRegistry;
import dev.errand.wire.Wire;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A timed-out wait says when no live worker consumes the task's queue, the silent "never runs". */
class ResultTimeoutTest {

  record Mail(String to) {}

  static final TaskDef<Mail, Void> SEND_EMAIL =
      TaskDef.builder("emails.send", Mail.class, Void.class)
          .options(TaskOptions.builder().queue("email").build())
          .build();

  static final Duration SHORT = Duration.ofMillis(1);
  static final Duration HEARTBEAT_TTL = Duration.ofSeconds(15);

  final FakeClock clock = new FakeClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).build();

  @AfterEach
  void close() {
    backend.close();
  }

  void heartbeat(String name, boolean consuming, String problem, String... queues) {
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
                clock.instant(),
                clock.instant(),
                List.of(),
                0,
                0,
                consuming,
                problem),
            HEARTBEAT_TTL);
  }

  static ResultTimeoutException timeout(AsyncResult<?> r) {
    return catchThrowableOfType(ResultTimeoutException.class, () -> r.get(SHORT));
  }

  @Test
  void saysWhichQueueNoLiveWorkerConsumesAndWhatTheWorkersConsumeInstead() {
    heartbeat("w1", true, null, "default");
    heartbeat("w2", true, null, "reports", "default");

    ResultTimeoutException e = timeout(client.enqueue(SEND_EMAIL, new Mail("a@example.com")));

    assertThat(e.lastState()).isEqualTo(TaskState.PENDING);
    assertThat(e.unconsumedQueue()).contains("email");
    assertThat(e)
        .hasMessageContaining("(state PENDING): no live worker consumes its queue 'email'")
        .hasMessageContaining("(live workers consume [default, reports])");
  }

  @Test
  void saysWhenNoWorkerIsLiveAtAll() {
    heartbeat("gone", true, null, "email");
    clock.advance(HEARTBEAT_TTL.plusSeconds(1)); // its heartbeat expired: it is not live

    ResultTimeoutException e = timeout(client.enqueue(SEND_EMAIL, new Mail("a@example.com")));

    assertThat(e.unconsumedQueue()).contains("email");
    assertThat(e)
        .hasMessageContaining("no live worker consumes its queue 'email' (no worker is live)");
  }

  @Test
  void aWorkerThatListsTheQueueButIsNotConsumingDoesNotCount() {
    heartbeat("w1", false, "claims fail: connection refused", "email");

    ResultTimeoutException e = timeout(client.enqueue(SEND_EMAIL, new Mail("a@example.com")));

    assertThat(e.unconsumedQueue()).contains("email");
    assertThat(e)
        .hasMessageContaining(
            "(worker w1 lists it but is not consuming: claims fail: connection refused)");
  }

  @Test
  void saysNothingMoreWhenALiveWorkerConsumesTheQueue() {
    heartbeat("w1", true, null, "default", "email");

    ResultTimeoutException e = timeout(client.enqueue(SEND_EMAIL, new Mail("a@example.com")));

    assertThat(e.unconsumedQueue()).isEmpty();
    assertThat(e).hasMessageEndingWith("(state PENDING)").hasMessageNotContaining("no live worker");
  }

  @Test
  void aHandleByIdTakesTheQueueFromTheStoredStatusAndSaysNothingWithoutOne() {
    AsyncResult<JsonNode> unknown = client.result("never-sent");
    assertThat(timeout(unknown).unconsumedQueue()).as("no status, no queue").isEmpty();

    AsyncResult<Void> sent = client.enqueue(SEND_EMAIL, new Mail("a@example.com"));
    backend
        .results()
        .put(
            new TaskStatus(
                sent.id(),
                SEND_EMAIL.name(),
                TaskState.RETRY,
                "email",
                null,
                TaskError.of("java.io.IOException", "SMTP down"),
                null,
                null,
                1,
                "w1",
                clock.instant(),
                clock.instant(),
                null,
                clock.instant().plusSeconds(1),
                clock.instant()),
            Duration.ofDays(1));

    ResultTimeoutException e = timeout(client.result(sent.id()));

    assertThat(e.lastState()).isEqualTo(TaskState.RETRY);
    assertThat(e.unconsumedQueue()).contains("email");
  }

  @Test
  void theWorkersAreReadOnlyWhenAWaitTimesOutAndAFailedReadLeavesThePlainTimeout() {
    AtomicInteger reads = new AtomicInteger();
    Backend counting = failingWorkers(backend, reads);
    Client c = Client.builder(counting).clock(clock).build();

    AsyncResult<Void> done = c.enqueue(SEND_EMAIL, new Mail("a@example.com"));
    backend
        .results()
        .put(
            TaskStatus.pending(done.id())
                .withResult(Wire.mapper().nullNode())
                .withState(TaskState.SUCCESS, clock.instant()),
            Duration.ofDays(1));
    assertThat(catchThrowableOfType(Exception.class, () -> done.get(SHORT))).isNull();
    assertThat(reads).as("a wait that succeeds reads no worker").hasValue(0);

    ResultTimeoutException e = timeout(c.enqueue(SEND_EMAIL, new Mail("b@example.com")));

    assertThat(reads).hasValue(1);
    assertThat(e.unconsumedQueue()).isEmpty();
    assertThat(e).hasMessageEndingWith("(state PENDING)");
  }

  /** {@code backend} whose worker registry counts reads of the live workers and fails them. */
  static Backend failingWorkers(Backend backend, AtomicInteger reads) {
    WorkerRegistry workers =
        (WorkerRegistry)
            Proxy.newProxyInstance(
                ResultTimeoutTest.class.getClassLoader(),
                new Class<?>[] {WorkerRegistry.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("live")) {
                    reads.incrementAndGet();
                    throw new BackendUnavailableException("registry down", null);
                  }
                  return method.invoke(backend.workers(), args);
                });
    return (Backend)
        Proxy.newProxyInstance(
            ResultTimeoutTest.class.getClassLoader(),
            new Class<?>[] {Backend.class},
            (proxy, method, args) -> {
              if (method.getName().equals("workers")) {
                return workers;
              }
              try {
                return method.invoke(backend, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
