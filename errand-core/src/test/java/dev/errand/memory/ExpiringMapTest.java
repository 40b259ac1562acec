package dev.errand.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ExpiringMapTest {

  final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void entryIsGoneAtItsExpiry() {
    ExpiringMap<String, String> map = new ExpiringMap<>();
    map.put("k", "v", t0.plusSeconds(10), t0);

    assertThat(map.get("k", t0.plusSeconds(9))).isEqualTo("v");
    assertThat(map.get("k", t0.plusSeconds(10))).isNull();
    assertThat(map.size()).isZero();
  }

  @Test
  void expiredEntriesAreSweptByLaterWrites() {
    ExpiringMap<Integer, String> map = new ExpiringMap<>();
    for (int i = 0; i < ExpiringMap.MIN_WRITES_BETWEEN_SWEEPS - 1; i++) {
      map.put(i, "short-lived", t0.plusSeconds(1), t0);
    }
    Instant later = t0.plusSeconds(60);
    for (int i = 0; i < ExpiringMap.MIN_WRITES_BETWEEN_SWEEPS; i++) {
      map.put(-1 - i, "live", later.plusSeconds(60), later);
    }

    assertThat(map.size()).isLessThanOrEqualTo(ExpiringMap.MIN_WRITES_BETWEEN_SWEEPS);
    assertThat(map.values(later)).containsOnly("live");
  }

  @Test
  void removeReportsOnlyLiveEntries() {
    ExpiringMap<String, String> map = new ExpiringMap<>();
    map.put("live", "v", t0.plusSeconds(10), t0);
    map.put("dead", "v", t0.plusSeconds(1), t0);

    assertThat(map.remove("live", t0.plusSeconds(5))).isTrue();
    assertThat(map.remove("dead", t0.plusSeconds(5))).isFalse();
    assertThat(map.remove("never", t0)).isFalse();
  }

  @Test
  void hugeTimeToLiveMeansForever() {
    assertThat(Durations.plus(Instant.MAX.minusSeconds(1), java.time.Duration.ofDays(365)))
        .isEqualTo(Instant.MAX);
  }
}
