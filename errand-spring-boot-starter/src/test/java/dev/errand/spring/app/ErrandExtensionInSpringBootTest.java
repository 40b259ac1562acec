package dev.errand.spring.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.test.ErrandExtension;
import dev.errand.test.MutableClock;
import dev.errand.test.RecordingClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.stereotype.Service;

/**
 * errand-test's extension inside {@code @SpringBootTest}: its parameters are the application's
 * beans (the backend on a test clock the test declares), so a test drives the clock the
 * application's client and worker use, and sees what the application sent.
 */
@SpringBootTest(classes = ErrandExtensionInSpringBootTest.App.class)
@ExtendWith(ErrandExtension.class)
class ErrandExtensionInSpringBootTest {

  static final TaskDef<String, Void> REMIND = TaskDef.of("users.remind", String.class);

  @SpringBootConfiguration
  @EnableAutoConfiguration(exclude = DataSourceAutoConfiguration.class)
  static class App {
    @Bean
    MutableClock clock() {
      return new MutableClock();
    }

    @Bean
    InMemoryBackend backend(MutableClock clock) {
      return new InMemoryBackend(clock);
    }

    @Bean
    Signup signup(Client client) {
      return new Signup(client);
    }
  }

  /** The code under test: reminds a new user a day later. */
  @Service
  static class Signup {
    private final Client client;

    Signup(Client client) {
      this.client = client;
    }

    void register(String email) {
      client.enqueue(REMIND, email, TaskOptions.builder().countdown(Duration.ofDays(1)).build());
    }
  }

  @Autowired Signup signup;
  @Autowired Backend contextBackend;

  @Test
  void theExtensionHandsOutTheApplicationsBeans(
      Backend backend, MutableClock clock, Client client, RecordingClient recording)
      throws Exception {
    assertThat(backend).isSameAs(contextBackend);
    signup.register("ada@example.com");
    assertThat(backend.broker().stats("default").delayed()).isEqualTo(1);
    clock.advance(Duration.ofDays(1).plusSeconds(1));
    assertThat(backend.broker().stats("default").ready()).isEqualTo(1);
    // The context's Client is the application's, and the RecordingClient records over its backend.
    assertThat(client.backend().describe()).isEqualTo(backend.describe());
    recording.enqueue(REMIND, "bob@example.com");
    assertThat(recording.enqueued())
        .singleElement()
        .satisfies(e -> assertThat(e.task()).isEqualTo("users.remind"));
  }
}
