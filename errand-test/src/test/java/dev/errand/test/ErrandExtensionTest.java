package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskOptions;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Delivery;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ErrandExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ErrandExtensionTest {

  /** Backends handed out so far, across tests: each must be new, and closed afterwards. */
  static final List<Backend> SEEN = new ArrayList<>();

  private final MutableClock constructorClock;
  private final Client constructorClient;
  private Backend beforeEachBackend;

  ErrandExtensionTest(MutableClock clock, Client client) {
    this.constructorClock = clock;
    this.constructorClient = client;
  }

  @BeforeEach
  void setUp(Backend backend) {
    beforeEachBackend = backend;
  }

  @Test
  @Order(1)
  void injectsOneClockBackendAndClientPerTest(
      MutableClock clock,
      Clock plainClock,
      InMemoryBackend backend,
      Backend asBackend,
      Client client)
      throws Exception {
    SEEN.add(backend);
    assertThat(plainClock).isSameAs(clock).isSameAs(constructorClock);
    assertThat(asBackend).isSameAs(backend).isSameAs(beforeEachBackend);
    assertThat(client).isSameAs(constructorClient);
    assertThat(client.backend()).isSameAs(backend);
    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START);

    AsyncResult<JsonNode> sent =
        client.send(
            "reports.build",
            (JsonNode) null,
            TaskOptions.builder().countdown(Duration.ofMinutes(1)).build());
    assertThat(backend.broker().stats("default").delayed()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(1));
    List<Delivery> claimed =
        backend.broker().claim(List.of("default"), 1, Duration.ofSeconds(30), Duration.ZERO);
    assertThat(claimed).extracting(Delivery::id).containsExactly(sent.id());
  }

  @Test
  @Order(2)
  void givesEachTestAFreshBackendAndClosesThePreviousOne(InMemoryBackend backend) {
    SEEN.add(backend);
    assertThat(SEEN).hasSize(2);
    assertThat(SEEN.get(0)).isNotSameAs(backend);
    assertThat(backend.broker().queues()).isEmpty();
    assertThatThrownBy(() -> SEEN.get(0).broker().enqueue(List.of()))
        .as("the first test's backend was closed")
        .isInstanceOf(IllegalStateException.class);
  }

  @AfterAll
  static void lastBackendIsClosedToo() {
    assertThatThrownBy(() -> SEEN.get(SEEN.size() - 1).broker().enqueue(List.of()))
        .isInstanceOf(IllegalStateException.class);
  }
}
