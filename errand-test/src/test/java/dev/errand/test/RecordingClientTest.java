package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.InvalidMessageException;
import dev.errand.RetryPolicy;
import dev.errand.Routes;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.MDC;

@ExtendWith(ErrandExtension.class)
class RecordingClientTest {

  record Mail(String to, String subject) {}

  record Job(String name, Thread worker) {}

  static final TaskDef<Mail, Void> SEND =
      TaskDef.builder("emails.send", Mail.class, Void.class)
          .options(TaskOptions.builder().queue("email").build())
          .build();

  static final TaskDef<String, Integer> COUNT =
      TaskDef.of("words.count", String.class, Integer.class);

  @Test
  void recordsTypedCallsWithTheirArgumentsQueueAndOptionsAndSendsNothing(
      RecordingClient client, InMemoryBackend backend) {
    AsyncResult<Void> handle =
        client.enqueue(
            SEND,
            new Mail("ada@example.com", "Welcome"),
            TaskOptions.builder()
                .priority(8)
                .retry(RetryPolicy.builder().maxRetries(7).build())
                .header("tenant", "acme")
                .build());
    client.enqueue(COUNT, "a b c");

    assertThat(client.enqueued()).hasSize(2);
    List<Enqueued<Mail>> mails = client.enqueued(SEND);
    assertThat(mails).hasSize(1);
    Enqueued<Mail> mail = mails.get(0);
    assertThat(mail.id()).isEqualTo(handle.id());
    assertThat(mail.task()).isEqualTo("emails.send");
    assertThat(mail.argument()).isEqualTo(new Mail("ada@example.com", "Welcome"));
    assertThat(mail.kwargs().get("to").asText()).isEqualTo("ada@example.com");
    assertThat(mail.queue()).isEqualTo("email");
    assertThat(mail.priority()).isEqualTo(8);
    assertThat(mail.options().retry().maxRetries()).isEqualTo(7);
    assertThat(mail.headers()).containsEntry("tenant", "acme");
    assertThat(mail.eta()).isNull();
    assertThat(mail.delay()).isZero();
    assertThat(client.enqueued(COUNT)).extracting(Enqueued::argument).containsExactly("a b c");
    assertThat(client.enqueued(COUNT).get(0).priority()).isEqualTo(TaskOptions.DEFAULT_PRIORITY);

    assertThat(backend.broker().queues()).as("nothing reached the broker").isEmpty();
    assertThat(handle.state()).isEqualTo(TaskState.PENDING);
  }

  @Test
  void countdownsAndEtasAreReadOnTheTestsClock(RecordingClient client, MutableClock clock) {
    Instant start = clock.instant();
    client.enqueue(SEND, new Mail("a", "later"), countdown(Duration.ofMinutes(5)));
    client.enqueue(
        SEND,
        new Mail("b", "at nine"),
        TaskOptions.builder()
            .eta(start.plus(Duration.ofHours(9)))
            .expires(Duration.ofHours(10))
            .build());

    Enqueued<Mail> later = client.enqueued(SEND).get(0);
    Enqueued<Mail> atNine = client.enqueued(SEND).get(1);
    assertThat(later.sentAt()).isEqualTo(start);
    assertThat(later.eta()).isEqualTo(start.plus(Duration.ofMinutes(5)));
    assertThat(later.delay()).isEqualTo(Duration.ofMinutes(5));
    assertThat(atNine.delay()).isEqualTo(Duration.ofHours(9));
    assertThat(atNine.expires()).isEqualTo(start.plus(Duration.ofHours(10)));

    clock.advance(Duration.ofMinutes(2));
    assertThat(later.dueIn(clock)).isEqualTo(Duration.ofMinutes(3));
    clock.advance(later.dueIn(clock));
    assertThat(later.dueIn(clock)).isZero();
    assertThat(later.delay()).as("fixed at sending").isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void routesAndRequestIdsAreTheRealClients(InMemoryBackend backend, MutableClock clock) {
    RecordingClient client =
        RecordingClient.builder(backend)
            .clock(clock)
            .routes(Routes.builder().route("words.*", "text").build())
            .build();
    MDC.put("requestId", "req-9");
    try {
      client.enqueue(COUNT, "x");
    } finally {
      MDC.remove("requestId");
    }

    Enqueued<String> call = client.enqueued(COUNT).get(0);
    assertThat(call.queue()).isEqualTo("text");
    assertThat(call.headers()).containsEntry("requestId", "req-9");
  }

  @Test
  void tasksSentByNameAreRecordedToo(RecordingClient client) {
    client.send("reports.build", "{\"kind\": \"daily\"}");
    client.send("reports.build", "[\"weekly\"]");

    assertThat(client.enqueued("reports.build"))
        .extracting(c -> c.argument().toString())
        .containsExactly("{\"kind\":\"daily\"}", "[\"weekly\"]");
    assertThat(client.enqueued("other.task")).isEmpty();
  }

  @Test
  void anIdempotencyKeyRecordsTheFirstCallOnlyWithinItsWindow(
      RecordingClient client, MutableClock clock) {
    TaskOptions keyed =
        TaskOptions.builder()
            .idempotencyKey("welcome:42")
            .idempotencyWindow(Duration.ofHours(1))
            .build();

    AsyncResult<Void> first = client.enqueue(SEND, new Mail("a", "1"), keyed);
    AsyncResult<Void> again = client.enqueue(SEND, new Mail("a", "2"), keyed);
    clock.advance(Duration.ofHours(1));
    AsyncResult<Void> afterWindow = client.enqueue(SEND, new Mail("a", "3"), keyed);

    assertThat(again.id()).isEqualTo(first.id());
    assertThat(afterWindow.id()).isNotEqualTo(first.id());
    assertThat(client.enqueued(SEND))
        .extracting(c -> c.argument().subject())
        .containsExactly("1", "3");
    assertThat(client.enqueued(SEND).get(0).idempotencyKey()).isEqualTo("welcome:42");
  }

  @Test
  void clearForgetsTheCallsAndTheirKeys(RecordingClient client) {
    TaskOptions keyed = TaskOptions.builder().idempotencyKey("k").build();
    client.enqueue(SEND, new Mail("a", "1"), keyed);

    client.clear();
    client.enqueue(SEND, new Mail("a", "2"), keyed);

    assertThat(client.enqueued(SEND)).extracting(c -> c.argument().subject()).containsExactly("2");
  }

  @Test
  void whatTheRealClientRefusesIsRefusedAndNotRecorded(RecordingClient client) {
    assertThatThrownBy(() -> client.enqueue(TaskDef.of("jobs.run", Job.class), new Job("j", null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Job.worker is a java.lang.Thread");
    assertThatThrownBy(() -> client.enqueue(SEND, null))
        .hasMessageContaining("the argument is null");

    assertThat(client.enqueued()).isEmpty();
  }

  @Test
  void anArgumentAWorkerCouldNotBindSaysSo(RecordingClient client) {
    client.send("emails.send", "[1, 2, 3]"); // three positional arguments for a two-field record

    assertThatThrownBy(() -> client.enqueued(SEND).get(0).argument())
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining("takes 2 positional arguments but 3 were given");
  }

  @Test
  void drainingSendsEveryRecordedMessageAsItWasToAnotherClient(
      RecordingClient client, MutableClock clock) throws Exception {
    AsyncResult<Void> mail =
        client.enqueue(SEND, new Mail("a", "1"), countdown(Duration.ofMinutes(1)));
    client.enqueue(COUNT, "x");
    try (InMemoryBackend real = new InMemoryBackend(clock)) {
      Client target = Client.builder(real).clock(clock).build();

      List<AsyncResult<JsonNode>> drained = client.drainTo(target);

      assertThat(drained).extracting(AsyncResult::id).startsWith(mail.id()).hasSize(2);
      assertThat(client.enqueued()).as("drained calls are forgotten").isEmpty();
      assertThat(real.broker().stats("email").delayed()).as("its countdown kept").isEqualTo(1);
      List<Delivery> words =
          real.broker().claim(List.of("default"), 10, Duration.ofSeconds(30), Duration.ZERO);
      assertThat(words).hasSize(1);
      assertThat(client.drainTo(target)).isEmpty();
    }
    assertThatThrownBy(() -> client.drainTo(client)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theExtensionInjectsOneRecordingClientPerTestOnItsBackendAndClock(
      RecordingClient client, RecordingClient same, InMemoryBackend backend, MutableClock clock) {
    assertThat(same).isSameAs(client);
    assertThat(client.backend().results()).isSameAs(backend.results());
    assertThat(client.backend().clock()).isSameAs(clock);
  }

  static TaskOptions countdown(Duration d) {
    return TaskOptions.builder().countdown(d).build();
  }
}
