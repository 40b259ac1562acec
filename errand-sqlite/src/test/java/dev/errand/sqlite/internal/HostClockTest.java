package dev.errand.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The host's clock read from the kernel, against process clocks a minute off. */
class HostClockTest {

  static final Duration SKEW = Duration.ofSeconds(60);

  @TempDir Path tmp;
  final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  final Logger clockLog = (Logger) LoggerFactory.getLogger(HostClock.class);

  @BeforeEach
  void listen() {
    logs.start();
    clockLog.addAppender(logs);
  }

  @AfterEach
  void stop() {
    clockLog.detachAppender(logs);
  }

  static void assumeLinuxProc() {
    assumeThat(Files.isReadable(Path.of("/proc/uptime")))
        .as("needs Linux's /proc/uptime and /proc/stat; not run here")
        .isTrue();
  }

  HostClock hostClock(Duration skew) {
    return new HostClock(
        Clock.offset(Clock.systemUTC(), skew), Path.of("/proc"), tmp, HostClock.REFRESH);
  }

  @Test
  void correctsAProcessClockThatIsAMinuteAheadOrBehind() {
    assumeLinuxProc();
    for (Duration skew : new Duration[] {SKEW, SKEW.negated()}) {
      HostClock clock = hostClock(skew);

      assertThat(clock.offsetMillis()).isCloseTo(-skew.toMillis(), within(100L));
      assertThat(clock.millis()).isCloseTo(System.currentTimeMillis(), within(100L));
      assertThat(clock.instant().toEpochMilli())
          .isCloseTo(System.currentTimeMillis(), within(100L));
    }
  }

  @Test
  void leavesARightProcessClockAsItIs() {
    assumeLinuxProc();
    HostClock clock = hostClock(Duration.ZERO);

    assertThat(clock.offsetMillis()).isZero();
    assertThat(logs.list).filteredOn(e -> e.getLevel() == Level.WARN).isEmpty();
  }

  @Test
  void warnsNamingBothClocks() {
    assumeLinuxProc();
    hostClock(SKEW);

    assertThat(logs.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .singleElement()
        .extracting(ILoggingEvent::getFormattedMessage)
        .asString()
        .containsPattern(
            "the clock of this process is 6\\d\\.\\d s ahead of the clock of this host")
        .contains("this process: ")
        .contains("the kernel: ");
  }

  @Test
  void fallsBackToTheProcessClockWithoutProc() {
    HostClock clock =
        new HostClock(
            Clock.offset(Clock.systemUTC(), SKEW), tmp.resolve("no-proc"), tmp, HostClock.REFRESH);

    assertThat(clock.offsetMillis()).isZero();
    assertThat(clock.millis())
        .isCloseTo(System.currentTimeMillis() + SKEW.toMillis(), within(100L));
  }

  @Test
  void readsTheBootTimeFromProc() throws Exception {
    Path proc = Files.createDirectory(tmp.resolve("proc"));
    long now = System.currentTimeMillis();
    long bootSeconds = now / 1000 - 1000; // booted 1000 s (and a fraction) ago
    Files.writeString(proc.resolve("stat"), "cpu  1 2 3\nbtime " + bootSeconds + "\nprocesses 9\n");
    double uptime = (now - bootSeconds * 1000) / 1000.0 + SKEW.toSeconds(); // the kernel: +60 s
    Files.writeString(proc.resolve("uptime"), String.format("%.2f 123.45\n", uptime));

    HostClock clock =
        new HostClock(Clock.systemUTC(), proc, tmp.resolve("no-such-dir"), HostClock.REFRESH);

    assertThat(clock.offsetMillis()).isCloseTo(SKEW.toMillis(), within(600L));
  }

  @Test
  void trustsTheFileTimeOnlyWhereTheBootTimeAgrees() {
    // the file time agrees with the boot time: it is the precise one
    assertThat(HostClock.decide(-60_400, -59_930, 2)).isEqualTo(-59_930);
    // a file time that says "no offset" while the boot time says a minute: file times are faked
    assertThat(HostClock.decide(-60_400, 3, 2)).isEqualTo(-59_900);
    // no file time, and the boot time cannot tell the process clock from the kernel's
    assertThat(HostClock.decide(-400, Long.MIN_VALUE, 2)).isZero();
    // a few milliseconds are measurement noise
    assertThat(HostClock.decide(-400, -3, 2)).isZero();
  }

  @Test
  void measuresAgainAndWarnsWhenTheProcessClockJumps() {
    assumeLinuxProc();
    AtomicLong shift = new AtomicLong();
    Clock jumpy =
        new Clock() {
          @Override
          public ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
          }

          @Override
          public Instant instant() {
            return Instant.now().plusMillis(shift.get());
          }
        };
    HostClock clock = new HostClock(jumpy, Path.of("/proc"), tmp, Duration.ZERO);
    assertThat(clock.offsetMillis()).isZero();

    shift.set(SKEW.toMillis()); // the process clock is set a minute ahead

    assertThat(clock.millis()).isCloseTo(System.currentTimeMillis(), within(100L));
    assertThat(clock.offsetMillis()).isCloseTo(-SKEW.toMillis(), within(100L));
    assertThat(logs.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .singleElement()
        .extracting(ILoggingEvent::getFormattedMessage)
        .asString()
        .contains("s ahead of the clock of this host's kernel");
  }

  @Test
  void keepsItsCorrectionInAnotherZone() {
    assumeLinuxProc();
    Clock paris = hostClock(SKEW).withZone(ZoneId.of("Europe/Paris"));

    assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));
    assertThat(paris.millis()).isCloseTo(System.currentTimeMillis(), within(100L));
  }
}
