package com.example.readme;

// readme:begin testing-recording
import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.test.Enqueued;
import dev.errand.test.ErrandExtension;
import dev.errand.test.RecordingClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ErrandExtension.class)
class SignupRecordingTest {
  @Test
  void queuesOneWelcomeEmail(RecordingClient client) {
    Signup signup = new Signup(client);
    signup.register("ada@example.com");
    signup.register("ada@example.com");              // a double submit: the idempotency key keeps one

    assertThat(client.enqueued(Tasks.SEND_EMAIL)).hasSize(1);
    Enqueued<Tasks.SendEmail> call = client.enqueued(Tasks.SEND_EMAIL).get(0);
    assertThat(call.argument().to()).isEqualTo("ada@example.com");
    assertThat(call.queue()).isEqualTo("email");
    assertThat(call.delay()).isEqualTo(Duration.ofMinutes(5));
  }
}
// readme:end
