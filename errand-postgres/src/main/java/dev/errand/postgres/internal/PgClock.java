package dev.errand.postgres.internal;

import dev.errand.spi.CorrectedClock;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process clock corrected to the database's, for {@code Backend.clock()}: what producers and
 * workers use for the instants they send (eta, expires) and their local deadlines. The database
 * itself decides every lease, delay and expiry with its own clock ({@code {now}} in {@link Pg}'s
 * statements); this clock only keeps the processes in agreement with it. Measured at open, over a
 * few round trips (the fastest wins), and again every {@link #REFRESH} on a background thread of
 * the pool's, never on the caller's. Thread-safe.
 */
public final class PgClock extends CorrectedClock {

  private static final Logger log = LoggerFactory.getLogger(PgClock.class);

  /** How often the offset is measured again: 30 s. */
  public static final Duration REFRESH = Duration.ofSeconds(30);

  private static final int SAMPLES = 3;
  private static final String NOW =
      "SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint";

  private final DataSource dataSource;
  private final String describe;
  private final long refreshNanos;
  private final Executor executor;
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile long measuredAtNanos;

  private PgClock(Clock local, DataSource dataSource, String describe, Executor executor) {
    super(local, log);
    this.dataSource = dataSource;
    this.describe = describe;
    this.refreshNanos = REFRESH.toNanos();
    this.executor = executor;
  }

  /**
   * Measures the offset now and returns the clock.
   *
   * @throws SQLException if the database does not answer
   */
  public static PgClock open(Clock local, DataSource dataSource, String describe, Executor executor)
      throws SQLException {
    PgClock clock = new PgClock(local, dataSource, describe, executor);
    clock.measure();
    return clock;
  }

  private void measure() throws SQLException {
    long bestRtt = Long.MAX_VALUE;
    long offset = 0;
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      for (int i = 0; i < SAMPLES; i++) {
        long before = local().millis();
        long start = System.nanoTime();
        long serverMicros;
        try (ResultSet rs = s.executeQuery(NOW)) {
          rs.next();
          serverMicros = rs.getLong(1);
        }
        long rtt = System.nanoTime() - start;
        if (rtt < bestRtt) {
          bestRtt = rtt;
          offset = serverMicros / 1000 - (before + TimeUnit.NANOSECONDS.toMillis(rtt / 2));
        }
      }
    }
    measuredAtNanos = System.nanoTime();
    offset(offset);
  }

  @Override
  protected void refreshIfDue() {
    if (System.nanoTime() - measuredAtNanos < refreshNanos
        || !refreshing.compareAndSet(false, true)) {
      return;
    }
    measuredAtNanos = System.nanoTime(); // one try per period, also when it fails
    try {
      executor.execute(
          () -> {
            try {
              measure();
            } catch (SQLException | RuntimeException e) {
              log.debug(
                  "cannot read the clock of {}, keeping the last offset: {}",
                  describe,
                  e.toString());
            } finally {
              refreshing.set(false);
            }
          });
    } catch (RuntimeException e) {
      refreshing.set(false);
    }
  }

  @Override
  protected String source() {
    return "the clock of PostgreSQL at " + describe;
  }

  @Override
  protected String sourceLabel() {
    return "PostgreSQL clock_timestamp()";
  }

  @Override
  protected String advice() {
    return "leases, delays, expiry and leadership are decided by the database's clock and this"
        + " process corrects its own by the offset, but its log times are off: fix its clock (NTP)";
  }
}
