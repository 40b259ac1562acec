package dev.errand.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.redis.internal.RedisClock;
import dev.errand.redis.testing.TestRedis;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Server time: a backend opened with the system clock decides leases, delays, expiry and leadership
 * by Redis's {@code TIME}, so a process whose clock is a minute off (played here by a backend whose
 * process clock is shifted) can neither take over a running task nor run a delayed one early, and
 * what it sends means what it says.
 */
class RedisServerTimeIT {

  static final Duration SKEW = Duration.ofSeconds(60);
  static final List<String> Q = List.of("default");

  String prefix;
  RedisBackend honest;
  final List<RedisBackend> opened = new ArrayList<>();
  final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  final Logger clockLog = (Logger) LoggerFactory.getLogger(RedisClock.class);

  @BeforeEach
  void open() {
    logs.start();
    clockLog.addAppender(logs);
    prefix = TestRedis.newPrefix();
    honest = track(RedisBackend.open(TestRedis.url(prefix, "")));
  }

  @AfterEach
  void close() {
    clockLog.detachAppender(logs);
    opened.forEach(RedisBackend::close);
    TestRedis.deleteKeys(prefix);
  }

  RedisBackend track(RedisBackend b) {
    opened.add(b);
    return b;
  }

  /** A backend in a process whose clock is {@code skew} off (ahead when positive). */
  RedisBackend skewed(Duration skew) {
    Clock local = Clock.offset(Clock.systemUTC(), skew);
    return track(
        RedisBackend.openOnServerTime(TestRedis.url(prefix, ""), local, RedisClock.REFRESH));
  }

  static NewMessage message(Instant notBefore) {
    String id = UUID.randomUUID().toString();
    return new NewMessage(
        id, "default", 5, id.getBytes(StandardCharsets.UTF_8), notBefore, null, null);
  }

  static List<Delivery> claimNow(RedisBackend b, Duration lease) throws InterruptedException {
    return b.broker().claim(Q, 10, lease, Duration.ZERO);
  }

  /** Claims what {@code b} can now into {@code got}; returns how many it holds in all. */
  static int claimInto(RedisBackend b, List<Delivery> got) throws InterruptedException {
    got.addAll(claimNow(b, Duration.ofSeconds(5)));
    return got.size();
  }

  @Test
  void aProcessWhoseClockIsAMinuteAheadCannotTakeOverARunningTask() throws Exception {
    RedisBackend ahead = skewed(SKEW);
    honest.broker().enqueue(List.of(message(null)));
    assertThat(claimNow(honest, Duration.ofSeconds(5))).hasSize(1);

    assertThat(claimNow(ahead, Duration.ofSeconds(5))).isEmpty();
    assertThat(ahead.broker().stats("default").leased()).as("stats reap too").isEqualTo(1);
    assertThat(honest.broker().stats("default").leased()).isEqualTo(1);
  }

  @Test
  void aProcessWhoseClockIsAMinuteAheadCannotRunADelayedMessageEarly() throws Exception {
    RedisBackend ahead = skewed(SKEW);
    honest.broker().enqueue(List.of(message(honest.clock().instant().plusSeconds(4))));

    List<Delivery> got = new ArrayList<>();
    await()
        .during(Duration.ofSeconds(2)) // due in 4 s: room for the setup above on a loaded machine
        .atMost(Duration.ofSeconds(3))
        .until(() -> claimInto(ahead, got) == 0);
    await().atMost(Duration.ofSeconds(10)).until(() -> claimInto(ahead, got) == 1);
  }

  @Test
  void aProcessWhoseClockIsAMinuteBehindRenewsItsLeaseByRedisTime() throws Exception {
    RedisBackend behind = skewed(SKEW.negated());
    honest.broker().enqueue(List.of(message(null)));
    List<Delivery> held = claimNow(behind, Duration.ofSeconds(5));
    assertThat(held).hasSize(1);

    assertThat(behind.broker().renew(held, Duration.ofSeconds(5))).isEmpty();

    assertThat(claimNow(honest, Duration.ofSeconds(5)))
        .as("renewed until a minute ago by the slow clock, the task would be taken over at once")
        .isEmpty();
  }

  @Test
  void aRetryAndACountdownSentByASkewedProcessAreDueWhenTheyMeant() throws Exception {
    RedisBackend behind = skewed(SKEW.negated());
    RedisBackend ahead = skewed(SKEW);
    TaskDef<Integer, Integer> task = TaskDef.builder("it.t", Integer.class, Integer.class).build();
    Client.create(ahead)
        .enqueue(task, 1, TaskOptions.builder().countdown(Duration.ofSeconds(4)).build());
    honest.broker().enqueue(List.of(message(null)));
    Delivery d = claimNow(behind, Duration.ofSeconds(5)).get(0);
    assertThat(behind.broker().retry(d, d.body(), behind.clock().instant().plusSeconds(4)))
        .isTrue();

    List<Delivery> got = new ArrayList<>();
    await()
        .during(Duration.ofSeconds(2)) // due in 4 s: room for the setup above on a loaded machine
        .atMost(Duration.ofSeconds(3))
        .until(() -> claimInto(honest, got) == 0);
    await().atMost(Duration.ofSeconds(10)).until(() -> claimInto(honest, got) == 2);
  }

  @Test
  void onceClaimsAndTheLeaderLeaseAreDecidedByRedisTime() throws Exception {
    RedisBackend ahead = skewed(SKEW);
    assertThat(honest.results().claimOnce("invoice-7", Duration.ofSeconds(30))).isTrue();
    assertThat(ahead.results().claimOnce("invoice-7", Duration.ofSeconds(30))).isFalse();

    assertThat(honest.schedules().lead("beat", "a", Duration.ofSeconds(30))).isTrue();
    assertThat(ahead.schedules().lead("beat", "b", Duration.ofSeconds(30))).isFalse();
    assertThat(ahead.schedules().leader("beat").orElseThrow().holder()).isEqualTo("a");
  }

  @Test
  void measuresItsOffsetToRedisAndWarnsNamingBothClocks() throws Exception {
    RedisBackend ahead = skewed(SKEW);

    assertThat(honest.clockOffsetMillis()).isCloseTo(0, within(250L));
    assertThat(ahead.clockOffsetMillis()).isCloseTo(-SKEW.toMillis(), within(250L));
    assertThat(ahead.clock().millis()).isCloseTo(System.currentTimeMillis(), within(250L));
    assertThat(logs.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .singleElement()
        .extracting(ILoggingEvent::getFormattedMessage)
        .asString()
        .contains("the clock of this process is 60.0 s ahead of the clock of Redis at redis://")
        .contains("this process: ")
        .contains("Redis TIME: ");
  }

  @Test
  void measuresTheOffsetAgainAndWarnsWhenAClockJumps() throws Exception {
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
    RedisBackend b =
        track(
            RedisBackend.openOnServerTime(TestRedis.url(prefix, ""), jumpy, Duration.ofMillis(50)));
    assertThat(logs.list).filteredOn(e -> e.getLevel() == Level.WARN).isEmpty();

    shift.set(-SKEW.toMillis()); // the process clock is set a minute back

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(b.clock().millis()).isCloseTo(System.currentTimeMillis(), within(250L)));
    assertThat(b.clockOffsetMillis()).isCloseTo(SKEW.toMillis(), within(250L));
    assertThat(logs.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .singleElement()
        .extracting(ILoggingEvent::getFormattedMessage)
        .asString()
        .contains("60.0 s behind the clock of Redis");
  }
}
