package dev.errand.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.Client;
import dev.errand.memory.InMemoryBackend;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Started schedulers on real threads and the real clock (bounds are generous; no speed asserted).
 */
class BeatTest {

  final InMemoryBackend backend = new InMemoryBackend(Clock.systemUTC());
  final Client client = Client.create(backend);

  @AfterEach
  void close() {
    backend.close();
  }

  long queued() {
    return backend.broker().stats("beat-test").ready();
  }

  @Test
  void oneOfTwoLeadsAndAnEditWakesItAtOnce() {
    Schedule hourly =
        Schedule.builder("tick")
            .task("t.tick")
            .every(Duration.ofHours(1))
            .queue("beat-test")
            .build();
    try (Beat a = Beat.builder(client).schedule(hourly).build().start();
        Beat b = Beat.builder(client).schedule(hourly).build().start()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> a.isLeader() || b.isLeader());
      assertThat(a.isLeader() && b.isLeader()).isFalse();

      // The leader sleeps for an hour; the edit must wake it.
      a.schedules().edit("tick", s -> s.every(Duration.ofSeconds(1)));

      await().atMost(Duration.ofSeconds(10)).until(() -> queued() >= 2);
    }
  }

  @Test
  void closingTheLeaderHandsOverToTheStandby() {
    Beat a = Beat.builder(client).name("a").build().start();
    await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
    try (Beat b = Beat.builder(client).name("b").failover(Duration.ofSeconds(2)).build().start()) {
      a.close();

      await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
      assertThat(backend.schedules().leader(Beat.DEFAULT_GROUP).orElseThrow().holder())
          .isEqualTo("b");
    }
  }

  @Test
  void codeSchedulesAreStoredAtStart() {
    Schedule nightly = Schedule.builder("nightly").task("reports.nightly").cron("@daily").build();
    try (Beat beat = Beat.builder(client).schedule(nightly).build().start()) {
      assertThat(beat.schedules().get("nightly").orElseThrow().definedInCode()).isTrue();
    }
  }
}
