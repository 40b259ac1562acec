package com.example.readme;

// readme:begin testing-extension
import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.spi.Backend;
import dev.errand.test.ErrandExtension;
import dev.errand.test.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ErrandExtension.class)
class SignupTest {
  @Test
  void sendsTheWelcomeEmailFiveMinutesLater(Client client, Backend backend, MutableClock clock) {
    new Signup(client).register("a@example.com");
    assertThat(backend.broker().stats("email").delayed()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(5));
    assertThat(backend.broker().stats("email").ready()).isEqualTo(1);
  }
}
// readme:end
