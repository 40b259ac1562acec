package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Delivery;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class ClientTest {

  record Mail(String to, String subject) {}

  static final TaskDef<Mail, String> SEND =
      TaskDef.builder("emails.send", Mail.class, String.class)
          .options(TaskOptions.builder().queue("mail-from-def").priority(3).build())
          .build();

  final FakeClock clock = new FakeClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);

  @AfterEach
  void close() {
    backend.close();
  }

  Client client(Routes routes) {
    return Client.builder(backend).clock(clock).routes(routes).build();
  }

  TaskMessage claimOne(String queue) throws InterruptedException {
    List<Delivery> d =
        backend.broker().claim(List.of(queue), 1, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(d).as("a message on queue %s", queue).hasSize(1);
    return Wire.decodeMessage(d.get(0).body());
  }

  @Test
  void queueIsCallOptionThenRouteThenDefinitionThenDefault() throws Exception {
    Client c = client(Routes.builder().route("emails.*", "routed").build());
    c.enqueue(SEND, new Mail("a", "1"), TaskOptions.builder().queue("explicit").build());
    c.enqueue(SEND, new Mail("a", "2"));
    client(Routes.none()).enqueue(SEND, new Mail("a", "3"));
    client(Routes.none()).send("other.task", (JsonNode) null);

    assertThat(claimOne("explicit").kwargs().get("subject").asText()).isEqualTo("1");
    assertThat(claimOne("routed").kwargs().get("subject").asText()).isEqualTo("2");
    assertThat(claimOne("mail-from-def").kwargs().get("subject").asText()).isEqualTo("3");
    assertThat(claimOne("default").task()).isEqualTo("other.task");
  }

  @Test
  void messageCarriesArgumentsTimingAndRequestId() throws Exception {
    MDC.put("requestId", "req-1");
    try {
      client(Routes.none())
          .enqueue(
              SEND,
              new Mail("bob@example.com", "hi"),
              TaskOptions.builder()
                  .countdown(Duration.ofSeconds(90))
                  .expires(Duration.ofHours(1))
                  .priority(9)
                  .build());
    } finally {
      MDC.remove("requestId");
    }
    Instant now = clock.instant();
    assertThat(
            backend
                .broker()
                .claim(List.of("mail-from-def"), 1, Duration.ofSeconds(30), Duration.ZERO))
        .as("not deliverable before its countdown")
        .isEmpty();
    clock.advance(Duration.ofSeconds(90));
    TaskMessage m = claimOne("mail-from-def");

    assertThat(m.kwargs().get("to").asText()).isEqualTo("bob@example.com");
    assertThat(m.priority()).isEqualTo(9);
    assertThat(m.eta()).isEqualTo(now.plusSeconds(90));
    assertThat(m.expires()).isEqualTo(now.plus(Duration.ofHours(1)));
    assertThat(m.requestId()).isEqualTo("req-1");
    assertThat(m.retries()).isZero();
    assertThat(m.v()).isEqualTo(Wire.PLAIN_VERSION);
  }

  @Test
  void oversizedMessageIsRefusedWithItsSizeAndNothingIsSent() {
    Client c = Client.builder(backend).clock(clock).maxMessageBytes(500).build();
    assertThatThrownBy(() -> c.enqueue(SEND, new Mail("x", "y".repeat(1000))))
        .isInstanceOf(MessageTooLargeException.class)
        .hasMessageContaining("over the limit of 500 bytes");
    assertThat(backend.broker().stats("mail-from-def").ready()).isZero();
  }

  @Test
  void argumentsNestedTooDeeplyAreRefusedAtEnqueueAndNothingIsSent() {
    Client c = client(Routes.none());
    String deep = "[".repeat(998) + "]".repeat(998);
    assertThatThrownBy(() -> c.send("tasks.deep", "{\"n\": 1, \"deep\": " + deep + "}"))
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining("arguments of tasks.deep nest 999 levels deep; at most 100");
    assertThatThrownBy(() -> c.send("tasks.deep", deep))
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining("nest 998 levels deep");
    assertThat(backend.broker().stats("default").ready()).isZero();
  }

  @Test
  void sendByNameAcceptsPositionalAndKeywordJson() throws Exception {
    Client c = client(Routes.none());
    c.send("tasks.add", "[1, 2]");
    c.send("tasks.add", "{\"x\": 1}");
    assertThat(claimOne("default").args()).hasSize(2);
    assertThat(claimOne("default").kwargs().get("x").asInt()).isEqualTo(1);
    assertThatThrownBy(() -> c.send("tasks.add", "{oops"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> c.send("has space", "[]")).hasMessageContaining("'has space'");
  }

  @Test
  void unknownTaskIsPendingAndWaitingForItTimesOut() {
    AsyncResult<JsonNode> r = client(Routes.none()).result("no-such-id");
    assertThat(r.state()).isEqualTo(TaskState.PENDING);
    assertThatThrownBy(() -> r.get(Duration.ofMillis(50)))
        .isInstanceOfSatisfying(
            ResultTimeoutException.class,
            e -> assertThat(e.lastState()).isEqualTo(TaskState.PENDING));
  }

  @Test
  void resultFutureCompletesWhenTheStatusBecomesReady() throws Exception {
    Client c = client(Routes.none());
    AsyncResult<String> r = c.enqueue(SEND, new Mail("a", "b"));
    CompletableFuture<String> f = r.toCompletableFuture();
    assertThat(f).isNotDone();

    backend
        .results()
        .put(
            TaskStatus.pending(r.id())
                .withResult(Wire.mapper().valueToTree("delivered"))
                .withState(TaskState.SUCCESS, clock.instant()),
            Duration.ofDays(1));

    assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo("delivered");
    assertThat(r.get(Duration.ZERO)).isEqualTo("delivered");
  }

  @Test
  void failureSurfacesTheRemoteErrorAndRevokedItsReason() {
    Client c = client(Routes.none());
    AsyncResult<String> failed = c.enqueue(SEND, new Mail("a", "b"));
    backend
        .results()
        .put(
            TaskStatus.pending(failed.id())
                .withError(new TaskError("java.io.IOException", "smtp down", "trace..."))
                .withState(TaskState.FAILURE, clock.instant()),
            Duration.ofDays(1));
    assertThatThrownBy(() -> failed.get(Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            TaskFailedException.class,
            e -> {
              assertThat(e.remoteType()).isEqualTo("java.io.IOException");
              assertThat(e.remoteMessage()).isEqualTo("smtp down");
              assertThat(e.traceback()).isEqualTo("trace...");
            });

    AsyncResult<String> pending = c.enqueue(SEND, new Mail("a", "c"));
    assertThat(pending.revoke()).isTrue();
    assertThatThrownBy(() -> pending.get(Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            TaskRevokedException.class, e -> assertThat(e.reason()).isEqualTo("revoked"));
    assertThat(backend.results().revoked(Set.of(pending.id()))).containsExactly(pending.id());
  }

  @Test
  void ignoredResultCannotBeAwaited() {
    AsyncResult<String> r =
        client(Routes.none())
            .enqueue(SEND, new Mail("a", "b"), TaskOptions.builder().ignoreResult(true).build());
    assertThatThrownBy(() -> r.get(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ignoreResult");
  }

  @Test
  void enqueueAllSendsEveryCallInOneBatch() throws Exception {
    List<AsyncResult<String>> rs =
        client(Routes.none())
            .enqueueAll(SEND, List.of(new Mail("a", "1"), new Mail("b", "2")), TaskOptions.none());
    assertThat(rs).hasSize(2);
    assertThat(backend.broker().stats("mail-from-def").ready()).isEqualTo(2);
  }

  @Test
  void aProducerStartsNoThreads() {
    Set<String> before = errandThreads();
    Client c = client(Routes.none());
    c.enqueue(SEND, new Mail("a", "b"));
    c.result("x").state();
    assertThat(errandThreads()).isEqualTo(before);
  }

  private static Set<String> errandThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .map(Thread::getName)
        .filter(n -> n.startsWith("errand"))
        .collect(Collectors.toSet());
  }

  record Job(String name, Thread worker) {}

  static final TaskDef<Job, Void> RUN_JOB = TaskDef.of("jobs.run", Job.class);

  static final TaskDef<Void, String> PING = TaskDef.of("health.ping", Void.class, String.class);

  @Test
  void anArgumentThatIsNotPlainDataIsRefusedAtEnqueueNamingTaskTypeAndComponent() {
    Client c = client(Routes.none());

    assertThatThrownBy(() -> c.enqueue(RUN_JOB, new Job("j", Thread.currentThread())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "jobs.run: the argument (a dev.errand.ClientTest$Job, declared"
                + " dev.errand.ClientTest$Job) cannot be sent: Job.worker is a java.lang.Thread,"
                + " which is not plain data;");
    assertThat(backend.broker().stats("default").ready()).isZero();
  }

  @Test
  void aNullArgumentIsRefusedAndAVoidTaskIsSentWithoutOne() throws Exception {
    Client c = client(Routes.none());

    assertThatThrownBy(() -> c.enqueue(SEND, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "emails.send: the argument is null, but the task takes a dev.errand.ClientTest$Mail"
                + " (a task without arguments is a TaskDef<Void, R>, sent with"
                + " client.enqueue(task))");
    c.enqueue(PING);
    c.enqueue(PING, null, TaskOptions.builder().priority(9).build());

    TaskMessage m = claimOne("default");
    assertThat(m.task()).isEqualTo("health.ping");
    assertThat(m.args()).isEmpty();
    assertThat(m.kwargs()).isEmpty();
  }

  @Test
  void aBatchWithOneBadArgumentIsRefusedWholeNamingItsIndex() {
    Client c = client(Routes.none());
    List<Mail> mails = new java.util.ArrayList<>(List.of(new Mail("a", "1"), new Mail("b", "2")));
    mails.add(null);

    assertThatThrownBy(() -> c.enqueueAll(SEND, mails, TaskOptions.none()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("argument 2 of 3 (none sent): emails.send: the argument is null");
    assertThatThrownBy(
            () ->
                c.enqueueAll(
                    RUN_JOB, List.of(new Job("a", null), new Job("b", null)), TaskOptions.none()))
        .hasMessageStartingWith("argument 0 of 2 (none sent): jobs.run: the argument")
        .hasMessageContaining("Job.worker is a java.lang.Thread");
    assertThat(backend.broker().stats("mail-from-def").ready()).isZero();
  }
}
