package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.scheduler.Beat;
import dev.errand.scheduler.MissedRuns;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.ScheduleEntry;
import dev.errand.scheduler.Schedules;
import dev.errand.spi.Delivery;
import dev.errand.spi.ScheduleStore;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real {@code errand beat} processes on one backend with an every-second schedule: exactly one task
 * per tick while two run; the leader killed with SIGKILL is replaced within the failover bound and,
 * with catch-up, no tick is lost or doubled; an edit through the CLI takes effect on the next tick.
 * The run lasts {@code -Derrand.it.beatSeconds} (default 30) seconds in all; set it to 180 for the
 * few-minute run. Subclassed once per backend.
 */
abstract class BeatProcessIT extends ProcessTestBase {

  static final long SECONDS = Long.getLong("errand.it.beatSeconds", 30);

  /** Slack over the failover bound for starting JVMs and a loaded machine. */
  static final Duration SLACK = Duration.ofSeconds(2);

  Schedules schedules;

  @BeforeEach
  void openSchedules() {
    schedules = Schedules.create(client);
  }

  Process errand(String out, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--broker", url));
    Process p = ErrandProcess.start(dir, out, all);
    processes.add(p);
    return p;
  }

  String leader() {
    return backend
        .schedules()
        .leader(Beat.DEFAULT_GROUP)
        .map(ScheduleStore.Lease::holder)
        .orElse(null);
  }

  @Test
  void twoBeatsSendEachTickOnceThroughFailoverAndAnEdit() throws Exception {
    Duration phase = Duration.ofSeconds(Math.max(10, (SECONDS - 15) / 2));
    schedules.add(
        Schedule.builder("tick")
            .task("it.tick")
            .args(Wire.mapper().createObjectNode().put("v", 1))
            .every(Duration.ofSeconds(1))
            .queue("ticks")
            .missedRuns(MissedRuns.catchUp())
            .build());
    Process a = errand("beat-a", "beat", "--name", "beat-a");
    await().atMost(Duration.ofSeconds(60)).until(() -> "beat-a".equals(leader()));
    Process b = errand("beat-b", "beat", "--name", "beat-b");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> Files.readString(dir.resolve("beat-b.out")).contains("errand beat beat-b"));
    awaitTicks(phase.toSeconds()); // one a second

    // SIGKILL the leader: the standby must lead within the failover bound.
    Instant killed = Instant.now();
    a.destroyForcibly();
    assertThat(a.waitFor(10, TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Beat.DEFAULT_FAILOVER.plus(SLACK))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> "beat-b".equals(leader()));
    Duration takeover = Duration.between(killed, Instant.now());
    // A new standby: a worker that also runs the scheduler, with its app's code schedule.
    Process c = errand("beat-c", "worker", "--app", ItApp.class.getName(), "--beat");
    awaitTicks(phase.toSeconds()); // one a second

    // Edit through the CLI while beat-b leads: every 2 s, new arguments.
    Process edit =
        errand("edit", "schedule", "edit", "tick", "--every", "2s", "--args", "{\"v\":2}");
    assertThat(edit.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(edit.exitValue()).as(Files.readString(dir.resolve("edit.out"))).isZero();
    Instant edited = Instant.now();
    awaitTicks(5); // 2 s apart: 10 s
    b.destroyForcibly();
    c.destroyForcibly();
    b.waitFor(10, TimeUnit.SECONDS);
    c.waitFor(10, TimeUnit.SECONDS);

    TreeMap<Instant, Integer> v1 = new TreeMap<>();
    TreeMap<Instant, Integer> v2 = new TreeMap<>();
    List<Long> lateMillis = new ArrayList<>();
    for (TaskMessage m : drain("ticks")) {
      Instant tick = Instant.parse(m.headers().get("errand-schedule-tick"));
      (m.kwargs().get("v").asInt() == 1 ? v1 : v2).merge(tick, 1, Integer::sum);
      lateMillis.add(Duration.between(tick, m.sentAt()).toMillis());
    }
    List<Long> onTime = lateMillis.stream().filter(ms -> ms <= 1000).sorted().toList();
    String report =
        String.format(
            "takeover %d ms; %d ticks every 1 s, then %d every 2 s; on-time ticks sent after their"
                + " time: median %d ms, 95th %d ms, max %d ms; %d caught up after the kill",
            takeover.toMillis(),
            v1.size(),
            v2.size(),
            onTime.get(onTime.size() / 2),
            onTime.get(onTime.size() * 95 / 100),
            onTime.get(onTime.size() - 1),
            lateMillis.size() - onTime.size());
    System.out.println("[beat-it] " + url.replaceAll("\\?.*", "") + ": " + report);
    assertThat(v1.values()).as("no tick doubled").allMatch(n -> n == 1);
    assertThat(v2.values()).as("no tick doubled").allMatch(n -> n == 1);
    assertThat(consecutive(v1, Duration.ofSeconds(1))).as("every second, none lost").isTrue();
    assertThat(v1.firstKey()).isBefore(killed);
    assertThat(v1.lastKey()).isAfter(killed.plus(takeover));
    assertThat(consecutive(v2, Duration.ofSeconds(2))).as(report).isTrue();
    assertThat(v2.size()).as(report).isGreaterThanOrEqualTo(4);
    assertThat(v2.firstKey()).as(report).isBeforeOrEqualTo(edited.plusSeconds(2));
    assertThat(Duration.between(v1.lastKey(), v2.firstKey()))
        .isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
    ScheduleEntry tick = schedules.get("tick").orElseThrow();
    // A beat records a tick after sending it; the last leader was SIGKILLed above, possibly between
    // the two, with no leader after it to re-send the tick (dropped by its key) and count it.
    long sent = v1.size() + v2.size();
    assertThat(tick.state().totalRuns()).as(report).isBetween(sent - 1, sent);
    assertThat(tick.state().missedTicks()).isZero();
    ScheduleEntry fromCode = schedules.get(ItApp.NIGHTLY.name()).orElseThrow();
    assertThat(fromCode.definedInCode()).isTrue();
    assertThat(fromCode.schedule()).isEqualTo(ItApp.NIGHTLY);
  }

  /**
   * Waits until the schedule has sent {@code n} more ticks: the run's phases are counted in ticks
   * sent (which the assertions then check one by one), not in wall-clock sleeps.
   */
  void awaitTicks(long n) {
    long target = ticksSent() + n;
    await()
        .atMost(Duration.ofSeconds(2 * n).plus(Beat.DEFAULT_FAILOVER).plus(SLACK))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> ticksSent() >= target);
  }

  long ticksSent() {
    return backend.broker().stats("ticks").ready();
  }

  static boolean consecutive(TreeMap<Instant, Integer> ticks, Duration step) {
    Instant prev = null;
    for (Map.Entry<Instant, Integer> e : ticks.entrySet()) {
      if (prev != null && !Duration.between(prev, e.getKey()).equals(step)) {
        return false;
      }
      prev = e.getKey();
    }
    return true;
  }

  List<TaskMessage> drain(String queue) throws InterruptedException {
    List<TaskMessage> all = new ArrayList<>();
    while (true) {
      List<Delivery> got =
          backend.broker().claim(List.of(queue), 500, Duration.ofMinutes(10), Duration.ZERO);
      if (got.isEmpty()) {
        return all;
      }
      for (Delivery d : got) {
        all.add(Wire.decodeMessage(d.body()));
      }
    }
  }
}
