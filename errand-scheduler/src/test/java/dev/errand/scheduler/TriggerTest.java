package dev.errand.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TriggerTest {

  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
  private static final ZoneId UTC = ZoneId.of("UTC");

  /** The next {@code n} fire times after local time {@code from} in {@code zone}, as text. */
  private static List<String> fires(Trigger t, ZoneId zone, String from, int n) {
    Instant at = LocalDateTime.parse(from).atZone(zone).toInstant();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      at = t.next(at, zone, Instant.EPOCH).orElseThrow();
      out.add(at.atZone(zone).toOffsetDateTime().toString());
    }
    return out;
  }

  @Test
  void aDailyJobInTheSkippedHourFiresOnceRightAfterTheClocksSpringForward() {
    assertThat(fires(Trigger.cron("30 2 * * *"), BERLIN, "2026-03-27T12:00", 4))
        .containsExactly(
            "2026-03-28T02:30+01:00",
            "2026-03-29T03:00+02:00", // 02:30 does not exist that day: once, at the change
            "2026-03-30T02:30+02:00",
            "2026-03-31T02:30+02:00");
  }

  @Test
  void aDailyJobInTheRepeatedHourFiresOnceWhenTheClocksFallBack() {
    assertThat(fires(Trigger.cron("30 1 * * *"), NEW_YORK, "2026-10-31T12:00", 3))
        .containsExactly(
            "2026-11-01T01:30-04:00", // 01:30 happens twice that day: only the first
            "2026-11-02T01:30-05:00",
            "2026-11-03T01:30-05:00");
  }

  @Test
  void wildcardHourJobsFollowElapsedTimeAcrossBothChanges() {
    assertThat(fires(Trigger.cron("*/20 * * * *"), BERLIN, "2026-10-25T02:30", 5))
        .containsExactly(
            "2026-10-25T02:40+02:00",
            "2026-10-25T02:00+01:00",
            "2026-10-25T02:20+01:00",
            "2026-10-25T02:40+01:00",
            "2026-10-25T03:00+01:00");
    assertThat(fires(Trigger.cron("*/20 * * * *"), BERLIN, "2026-03-29T01:30", 3))
        .containsExactly(
            "2026-03-29T01:40+01:00", "2026-03-29T03:00+02:00", "2026-03-29T03:20+02:00");
  }

  @Test
  void leapDaysAndEndsOfMonth() {
    assertThat(fires(Trigger.cron("0 0 29 2 *"), UTC, "2026-01-01T00:00", 2))
        .containsExactly("2028-02-29T00:00Z", "2032-02-29T00:00Z");
    assertThat(fires(Trigger.cron("0 12 31 * *"), UTC, "2026-01-31T12:00", 3))
        .containsExactly("2026-03-31T12:00Z", "2026-05-31T12:00Z", "2026-07-31T12:00Z");
  }

  @Test
  void aliasesNamesRangesStepsAndSeconds() {
    assertThat(fires(Trigger.cron("@daily"), UTC, "2026-01-01T10:00", 1))
        .containsExactly("2026-01-02T00:00Z");
    assertThat(fires(Trigger.cron("@HOURLY"), UTC, "2026-01-01T10:00", 1))
        .containsExactly("2026-01-01T11:00Z");
    assertThat(fires(Trigger.cron("@weekly"), UTC, "2026-01-01T10:00", 1)) // a Thursday
        .containsExactly("2026-01-04T00:00Z");
    assertThat(fires(Trigger.cron("0 9 * jan-mar MON-FRI"), UTC, "2026-03-27T10:00", 2))
        .containsExactly("2026-03-30T09:00Z", "2026-03-31T09:00Z");
    assertThat(fires(Trigger.cron("*/15 * * * * *"), UTC, "2026-01-01T10:00:05", 3))
        .containsExactly("2026-01-01T10:00:15Z", "2026-01-01T10:00:30Z", "2026-01-01T10:00:45Z");
    assertThat(fires(Trigger.cron("0 0 * * 7"), UTC, "2026-01-01T10:00", 1)) // 7 is Sunday
        .containsExactly("2026-01-04T00:00Z");
  }

  @Test
  void badExpressionsAreNamedWithWhatIsWrong() {
    assertThatThrownBy(() -> Trigger.cron("61 * * * *"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'61 * * * *'");
    assertThatThrownBy(() -> Trigger.cron("* * *"))
        .hasMessageContaining("has 3 fields; expected 5");
    assertThatThrownBy(() -> Trigger.cron("@fortnightly")).hasMessageContaining("unknown alias");
    assertThatThrownBy(() -> Trigger.parse("every 15m"))
        .hasMessageContaining("'15m' is not an ISO-8601 duration");
    assertThatThrownBy(() -> Trigger.every(Duration.ofMillis(500)))
        .hasMessageContaining("at least 1 second");
  }

  @Test
  void intervalsCountFromTheAnchorSoEveryMachineAgreesOnTheTicks() {
    Trigger every15 = Trigger.every(Duration.ofMinutes(15));
    Instant anchor = Instant.parse("2026-01-01T00:05:00Z");
    assertThat(every15.next(Instant.parse("2026-01-01T10:07:00Z"), UTC, anchor))
        .contains(Instant.parse("2026-01-01T10:20:00Z"));
    assertThat(every15.next(Instant.parse("2026-01-01T10:20:00Z"), UTC, anchor))
        .contains(Instant.parse("2026-01-01T10:35:00Z"));
    assertThat(every15.next(Instant.parse("2025-12-31T00:00:00Z"), UTC, anchor)).contains(anchor);
  }

  @Test
  void aOneOffFiresOnceAndThenNever() {
    Trigger at = Trigger.at(Instant.parse("2026-12-24T18:00:00Z"));
    assertThat(at.next(Instant.parse("2026-12-24T17:00:00Z"), UTC, Instant.EPOCH))
        .contains(Instant.parse("2026-12-24T18:00:00Z"));
    assertThat(at.next(Instant.parse("2026-12-24T18:00:00Z"), UTC, Instant.EPOCH)).isEmpty();
  }

  @Test
  void theTextFormRoundTrips() {
    for (Trigger t :
        List.of(
            Trigger.cron("30 2 * * *"),
            Trigger.every(Duration.ofMinutes(15)),
            Trigger.at(Instant.parse("2026-12-24T18:00:00Z")))) {
      assertThat(Trigger.parse(t.describe())).isEqualTo(t);
    }
  }
}
