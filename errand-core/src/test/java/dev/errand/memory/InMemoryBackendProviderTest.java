package dev.errand.memory;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.Backends;
import dev.errand.FakeClock;
import dev.errand.spi.Backend;
import dev.errand.spi.NewMessage;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryBackendProviderTest {

  final FakeClock clock = new FakeClock();

  @Test
  void memoryUrlOpensAPrivateBackendThroughTheServiceLoader() {
    try (Backend a = Backends.open("memory:", clock);
        Backend b = Backends.open("memory:", clock)) {
      assertThat(a).isInstanceOf(InMemoryBackend.class);
      assertThat(a.describe()).isEqualTo("memory:");
      a.broker().enqueue(List.of(message()));
      assertThat(b.broker().stats("q").ready()).isZero();
    }
  }

  @Test
  void namedBackendIsSharedUntilItsLastHandleIsClosed() {
    Backend first = Backends.open("memory:shared-test", clock);
    Backend second = Backends.open("memory:shared-test", clock);
    assertThat(first.describe()).isEqualTo("memory:shared-test");

    first.broker().enqueue(List.of(message()));
    assertThat(second.broker().stats("q").ready()).isEqualTo(1);
    first.close();
    first.close(); // idempotent: does not close the other handle's backend
    assertThat(second.broker().stats("q").ready()).isEqualTo(1);
    second.broker().enqueue(List.of(message()));
    second.close();

    try (Backend fresh = Backends.open("memory:shared-test", clock)) {
      assertThat(fresh.broker().stats("q").ready()).isZero();
    }
  }

  @Test
  void badUrlsAndMismatchedClocksAreRefusedByName() {
    InMemoryBackendProvider provider = new InMemoryBackendProvider();
    assertThat(provider.supports("memory")).isTrue();
    assertThat(provider.supports("sqlite")).isFalse();
    assertThatThrownBy(() -> provider.open("memory:no spaces", clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'no spaces'");
    assertThatThrownBy(() -> provider.open("redis://x", clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("redis://x");
    try (Backend held = provider.open("memory:clocked", clock)) {
      assertThatThrownBy(() -> provider.open("memory:clocked", Clock.systemUTC()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("memory:clocked");
      assertThat(held.broker().queues()).isEmpty();
    }
    try (Backend a = provider.open("memory:system", Clock.systemUTC());
        Backend b = provider.open("memory:system", Clock.systemUTC())) {
      assertThat(a.broker()).isSameAs(b.broker());
    }
  }

  private static NewMessage message() {
    return new NewMessage(
        java.util.UUID.randomUUID().toString(), "q", 5, "x".getBytes(UTF_8), null, null, null);
  }
}
