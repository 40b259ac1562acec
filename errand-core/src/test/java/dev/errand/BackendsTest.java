package dev.errand;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** errand-core alone on the class path: only {@code memory:} has a backend. */
class BackendsTest {

  final FakeClock clock = new FakeClock();

  @Test
  void aRedisUrlWithoutErrandRedisNamesTheArtifactToAdd() {
    for (String url :
        new String[] {"redis://localhost:6379/0", "rediss://h:6380", "redis-sentinel://h/m"}) {
      assertThatThrownBy(() -> Backends.open(url, clock))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no backend for URL scheme")
          .hasMessageContaining("add the dependency dev.errand:errand-redis");
    }
  }

  @Test
  void aSqliteUrlWithoutErrandSqliteNamesTheArtifactToAdd() {
    assertThatThrownBy(() -> Backends.open("sqlite:errand.db"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'sqlite:errand.db'")
        .hasMessageContaining("add the dependency dev.errand:errand-sqlite");
    assertThatThrownBy(() -> Backends.openReadOnly("sqlite:errand.db", clock))
        .hasMessageContaining("dev.errand:errand-sqlite");
  }

  @Test
  void anUnknownSchemeListsTheProvidersThereAre() {
    assertThatThrownBy(() -> Backends.open("nope:x", clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no backend for URL scheme 'nope'")
        .hasMessageContaining("InMemoryBackendProvider")
        .hasMessageNotContaining("dev.errand:errand-");
  }

  @Test
  void thePasswordOfAUrlStaysOutOfTheMessage() {
    assertThatThrownBy(() -> Backends.open("redis://app:s3cret@cache:6379/0", clock))
        .hasMessageContaining("'redis://***@cache:6379/0'")
        .hasMessageNotContaining("s3cret");
  }
}
