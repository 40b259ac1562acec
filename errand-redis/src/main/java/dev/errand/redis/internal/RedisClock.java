package dev.errand.redis.internal;

import dev.errand.BackendException;
import dev.errand.spi.CorrectedClock;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis backend's clock, in one of two modes.
 *
 * <p><b>Server time</b> (the backend was opened with the system clock): Redis's {@code TIME}
 * decides. Scripts that compare or compute a deadline read it themselves ({@link #scriptNow()} is
 * empty), so no process's clock decides a lease, a delay, an expiry or a leadership. For the times
 * the Java side computes (result expiry, heartbeats, revocations, how long a claim waits, and the
 * eta and expiry a producer sends) this clock is the process clock corrected by its offset to
 * {@code TIME}: measured at connect (the best of three round trips, half the round trip taken off)
 * and again every {@link #REFRESH} in the background of a read. An offset beyond {@link
 * CorrectedClock#WARN_OFFSET} is logged as a WARN naming both clocks.
 *
 * <p><b>Given time</b> (any other clock, say a test's settable one): that clock decides everything
 * and scripts are passed its time.
 *
 * <p>Thread-safe.
 */
public final class RedisClock extends CorrectedClock {

  private static final Logger log = LoggerFactory.getLogger(RedisClock.class);

  /** How often the offset is measured again: every 30 s, while the clock is read. */
  public static final Duration REFRESH = Duration.ofSeconds(30);

  private static final int SAMPLES = 3;
  // A refresh whose round trip took longer than this (and than twice the best at connect) says
  // little about the offset: the last one is kept.
  private static final long GOOD_RTT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final byte[] SERVER_NOW = new byte[0];

  private final Redis redis; // null: given time
  private final long refreshNanos;
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile long measuredAtNanos;
  private long acceptRttNanos = GOOD_RTT_NANOS;

  private RedisClock(Clock local, Redis redis, Duration refresh) {
    super(local, log);
    this.redis = redis;
    this.refreshNanos = refresh.toNanos();
  }

  /** A clock that decides everything itself; scripts are passed its time. */
  public static RedisClock given(Clock clock) {
    return new RedisClock(clock, null, REFRESH);
  }

  /**
   * Server time: {@code local} (the process clock) corrected to Redis's {@code TIME}, measured now
   * and again every {@code refresh} ({@link #REFRESH} but in tests).
   *
   * @throws BackendException if Redis does not answer
   */
  public static RedisClock server(Redis redis, Clock local, Duration refresh) {
    RedisClock clock = new RedisClock(local, redis, refresh);
    clock.measureNow();
    return clock;
  }

  /** Whether Redis's {@code TIME} decides (else this clock's own time). */
  public boolean serverTime() {
    return redis != null;
  }

  /**
   * The "now" argument of a script that decides by time: empty in server time (the script reads
   * {@code TIME}, see {@code clock.lua}), else this clock's milliseconds.
   */
  public byte[] scriptNow() {
    return redis != null
        ? SERVER_NOW
        : Long.toString(local().millis()).getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  protected String source() {
    return "the clock of Redis at " + redis.url().display();
  }

  @Override
  protected String sourceLabel() {
    return "Redis TIME";
  }

  @Override
  protected String advice() {
    return "leases, delays, expiry and leadership are decided by Redis's clock and this process"
        + " corrects its own by the offset, but its log times are off: fix its clock (NTP)";
  }

  private void measureNow() {
    long bestRtt = Long.MAX_VALUE;
    long offset = 0;
    for (int i = 0; i < SAMPLES; i++) {
      long before = local().millis();
      long start = System.nanoTime();
      List<byte[]> time = redis.await(redis.async().time(), "read the clock of Redis");
      long rtt = System.nanoTime() - start;
      if (rtt < bestRtt) {
        bestRtt = rtt;
        offset = offset(time, before, rtt);
      }
    }
    synchronized (this) {
      acceptRttNanos = Math.max(GOOD_RTT_NANOS, 2 * bestRtt);
    }
    update(offset);
  }

  @Override
  protected void refreshIfDue() {
    if (redis == null
        || System.nanoTime() - measuredAtNanos < refreshNanos
        || !refreshing.compareAndSet(false, true)) {
      return;
    }
    long before = local().millis();
    long start = System.nanoTime();
    try {
      redis
          .async()
          .time()
          .whenComplete(
              (time, error) -> {
                try {
                  long rtt = System.nanoTime() - start;
                  if (error != null) {
                    log.debug("cannot read the clock of Redis, keeping the last offset: {}", error);
                    measuredAtNanos = System.nanoTime();
                  } else if (rtt > acceptRtt()) {
                    measuredAtNanos = System.nanoTime(); // too slow to tell: try again later
                  } else {
                    update(offset(time, before, rtt));
                  }
                } finally {
                  refreshing.set(false);
                }
              });
    } catch (RuntimeException e) {
      refreshing.set(false);
      log.debug("cannot read the clock of Redis, keeping the last offset: {}", e.toString());
    }
  }

  private synchronized long acceptRtt() {
    return acceptRttNanos;
  }

  /** Redis's time minus the process clock at the middle of the round trip. */
  private static long offset(List<byte[]> time, long localBefore, long rttNanos) {
    long serverMicros =
        Long.parseLong(new String(time.get(0), StandardCharsets.US_ASCII)) * 1_000_000
            + Long.parseLong(new String(time.get(1), StandardCharsets.US_ASCII));
    return serverMicros / 1000 - (localBefore + TimeUnit.NANOSECONDS.toMillis(rttNanos / 2));
  }

  private void update(long offset) {
    measuredAtNanos = System.nanoTime();
    offset(offset);
  }
}
