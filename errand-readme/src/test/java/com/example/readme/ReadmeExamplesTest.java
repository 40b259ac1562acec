package com.example.readme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.memory.InMemoryBackend;
import dev.errand.scheduler.Beat;
import dev.errand.scheduler.ScheduleEntry;
import dev.errand.test.ErrandExtension;
import dev.errand.test.MutableClock;
import dev.errand.worker.Worker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's examples do what the README says when they run. */
@ExtendWith(ErrandExtension.class)
class ReadmeExamplesTest {

  static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void inTenLinesResizesOnAWorkerOverSqlite() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      Thumbnails.main(new String[0]);
    } finally {
      System.setOut(stdout);
    }
    assertThat(printed.toString(StandardCharsets.UTF_8)).contains("s3://a-256.png");
    assertThat(Files.exists(Path.of("errand.db"))).as("in the working directory").isTrue();
  }

  @Test
  void theWorkerOfHandlersRunsTheTasksOfDefiningTasksOnItsQueues(
      InMemoryBackend backend, MutableClock clock) {
    Mailer mailer = new Mailer();
    Payments payments = new Payments();
    Worker worker = Tasks.startWorker(backend, mailer, new Exports(), payments, new Api());
    try {
      Client client = Client.create(backend);
      AsyncResult<Void> sent =
          Tasks.sendWelcome(
              client, new Tasks.SendEmail("a@example.com", "Welcome", "Hello!"), "user-1");
      AsyncResult<Void> again =
          Tasks.sendWelcome(
              client, new Tasks.SendEmail("a@example.com", "Welcome", "Hello!"), "user-1");
      assertThat(again.id()).as("the idempotency key").isEqualTo(sent.id());
      assertThat(backend.broker().stats("email").delayed()).isEqualTo(1);

      clock.advance(Duration.ofMinutes(5)); // its countdown
      assertThat(Results.outcome(sent)).isEqualTo("sent");
      assertThat(mailer.sent).hasSize(1);

      Tasks.Order order = new Tasks.Order("o-1", 1999);
      client.enqueue(Tasks.CHARGE, order).get(WAIT);
      assertThat(client.enqueue(Tasks.EXPORT, new Tasks.Export("users")).get(WAIT).url())
          .isEqualTo("https://files.example.com/users.csv");
      assertThat(client.enqueue(Tasks.CALL_API, new Tasks.ApiCall("/contacts")).get(WAIT).status())
          .isEqualTo(200);
      assertThat(payments.charged).containsExactly(order);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      worker.close();
    }
  }

  @Test
  void aSendThatExpiresBeforeAnyWorkerStartsItIsRevoked(
      InMemoryBackend backend, MutableClock clock) {
    AsyncResult<Void> sent =
        Tasks.sendWelcome(
            Client.create(backend), new Tasks.SendEmail("b@example.com", "Hi", "!"), "user-2");
    clock.advance(Duration.ofHours(2)); // past its expiry, then a worker receives it
    Worker worker =
        Tasks.startWorker(backend, new Mailer(), new Exports(), new Payments(), new Api());
    try {
      assertThat(Results.outcome(sent)).isEqualTo("revoked: expired");
      assertThat(sent.state()).isEqualTo(TaskState.REVOKED);
    } finally {
      worker.close();
    }
  }

  @Test
  void schedulesAreStoredAndLed(Client client) {
    try (Beat beat = Scheduling.start(client)) {
      assertThat(beat.schedules().list())
          .extracting(e -> e.schedule().name())
          .containsExactlyInAnyOrder("nightly-report", "crm-sync", "remind-bob");
      ScheduleEntry bob = beat.schedules().get("remind-bob").orElseThrow();
      assertThat(bob.schedule().args().get(0).asText()).isEqualTo("bob");
    }
  }
}
