package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MutableClockTest {

  @Test
  void startsAtTheDefaultInstantInUtcAndStandsStill() {
    MutableClock clock = new MutableClock();

    assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(clock.instant()).isEqualTo(clock.instant());
    assertThat(clock.millis()).isEqualTo(clock.instant().toEpochMilli());
    assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
  }

  @Test
  void advancesAndSets() {
    MutableClock clock = MutableClock.startingAt(Instant.parse("2030-05-01T10:00:00Z"));

    assertThat(clock.advance(Duration.ofMinutes(90))).isEqualTo("2030-05-01T11:30:00Z");
    assertThat(clock.instant()).isEqualTo("2030-05-01T11:30:00Z");
    clock.set(Instant.parse("2029-01-01T00:00:00Z"));
    assertThat(clock.instant()).isEqualTo("2029-01-01T00:00:00Z");
  }

  @Test
  void refusesToAdvanceBackwards() {
    MutableClock clock = new MutableClock();

    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-1S");
    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START);
  }

  @Test
  void clockInAnotherZoneSharesTheTime() {
    MutableClock clock = new MutableClock();
    Clock paris = clock.withZone(ZoneId.of("Europe/Paris"));

    clock.advance(Duration.ofHours(1));

    assertThat(paris.instant()).isEqualTo(clock.instant());
    assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));
    assertThat(clock.withZone(ZoneOffset.UTC)).isSameAs(clock);
  }

  @Test
  void concurrentAdvancesAreAllCounted() throws Exception {
    MutableClock clock = new MutableClock();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 1000; i++) {
                    clock.advance(Duration.ofMillis(1));
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(clock.instant()).isEqualTo(MutableClock.DEFAULT_START.plusSeconds(4));
  }
}
