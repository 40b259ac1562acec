package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's example of asserting on what code enqueued, compiled and run: a signup service that
 * queues a welcome email five minutes later, tested with the {@link RecordingClient} the extension
 * injects.
 */
@ExtendWith(ErrandExtension.class)
class RecordingClientExampleTest {

  record SendEmail(String to, String template) {}

  static final TaskDef<SendEmail, Void> SEND_EMAIL =
      TaskDef.builder("emails.send", SendEmail.class, Void.class)
          .options(TaskOptions.builder().queue("email").build())
          .build();

  /** The code under test: it only knows a {@link Client}. */
  record Signup(Client client) {
    void register(String address) {
      client.enqueue(
          SEND_EMAIL,
          new SendEmail(address, "welcome"),
          TaskOptions.builder()
              .countdown(Duration.ofMinutes(5))
              .idempotencyKey("welcome:" + address)
              .build());
    }
  }

  @Test
  void queuesTheWelcomeEmailOnceFiveMinutesLater(RecordingClient client, MutableClock clock) {
    Signup signup = new Signup(client);
    signup.register("ada@example.com");
    signup.register("ada@example.com"); // a double submit: the idempotency key keeps one

    assertThat(client.enqueued(SEND_EMAIL))
        .singleElement()
        .satisfies(
            call -> {
              assertThat(call.argument()).isEqualTo(new SendEmail("ada@example.com", "welcome"));
              assertThat(call.queue()).isEqualTo("email");
              assertThat(call.delay()).isEqualTo(Duration.ofMinutes(5));
            });
    clock.advance(Duration.ofMinutes(5));
    assertThat(client.enqueued(SEND_EMAIL).get(0).dueIn(clock)).isZero();
  }
}
