package dev.errand.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import dev.errand.sqlite.internal.HostClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Processes sharing one file whose clocks disagree (played by backends whose process clock is
 * shifted, as libfaketime shifts a real one): leases and delays follow the host's clock, so a
 * process a minute ahead cannot take over a running task or run a delayed one early, and one a
 * minute behind does not let its lease lapse. The process IT {@code ClockSkewProcessIT} does the
 * same with real processes under libfaketime.
 */
class SqliteClockSkewTest {

  static final Duration SKEW = Duration.ofSeconds(60);
  static final List<String> Q = List.of("default");

  @TempDir Path dir;
  SqliteBackend honest;
  final List<SqliteBackend> opened = new ArrayList<>();

  @BeforeEach
  void open() {
    assumeThat(Files.isReadable(Path.of("/proc/uptime")))
        .as("needs Linux's /proc/uptime and /proc/stat; not run here")
        .isTrue();
    honest = track(SqliteBackend.open(dir.resolve("q.db"), Clock.systemUTC()));
  }

  @AfterEach
  void close() {
    opened.forEach(SqliteBackend::close);
  }

  SqliteBackend track(SqliteBackend b) {
    opened.add(b);
    return b;
  }

  /** A backend in a process whose clock is {@code skew} off (ahead when positive). */
  SqliteBackend skewed(Duration skew) {
    Clock local = Clock.offset(Clock.systemUTC(), skew);
    return track(SqliteBackend.open(dir.resolve("q.db"), HostClock.correcting(local)));
  }

  static NewMessage message(Instant notBefore) {
    String id = UUID.randomUUID().toString();
    return new NewMessage(
        id, "default", 5, id.getBytes(StandardCharsets.UTF_8), notBefore, null, null);
  }

  static int claimInto(SqliteBackend b, List<Delivery> got) throws InterruptedException {
    got.addAll(b.broker().claim(Q, 10, Duration.ofSeconds(5), Duration.ZERO));
    return got.size();
  }

  @Test
  void aProcessWhoseClockIsAMinuteAheadCannotTakeOverARunningTask() throws Exception {
    SqliteBackend ahead = skewed(SKEW);
    honest.broker().enqueue(List.of(message(null)));
    assertThat(claimInto(honest, new ArrayList<>())).isEqualTo(1);

    assertThat(claimInto(ahead, new ArrayList<>())).isZero();
  }

  @Test
  void aProcessWhoseClockIsAMinuteAheadCannotRunADelayedMessageEarly() throws Exception {
    SqliteBackend ahead = skewed(SKEW);
    honest.broker().enqueue(List.of(message(honest.clock().instant().plusSeconds(4))));

    List<Delivery> got = new ArrayList<>();
    await()
        .during(Duration.ofSeconds(2)) // due in 4 s: room for the setup above on a loaded machine
        .atMost(Duration.ofSeconds(3))
        .until(() -> claimInto(ahead, got) == 0);
    await().atMost(Duration.ofSeconds(10)).until(() -> claimInto(ahead, got) == 1);
  }

  @Test
  void aProcessWhoseClockIsAMinuteBehindRenewsItsLeaseByTheHostsClock() throws Exception {
    SqliteBackend behind = skewed(SKEW.negated());
    honest.broker().enqueue(List.of(message(null)));
    List<Delivery> held = new ArrayList<>();
    // The corrected clock may trail the honest one by a few ms (file times are kept in jiffies),
    // so a message enqueued this very moment may take those ms to be due for it.
    await().atMost(Duration.ofSeconds(2)).until(() -> claimInto(behind, held) == 1);

    assertThat(behind.broker().renew(held, Duration.ofSeconds(5))).isEmpty();

    assertThat(claimInto(honest, new ArrayList<>()))
        .as("renewed until a minute ago by the slow clock, the task would be taken over at once")
        .isZero();
  }
}
