package dev.errand.sqlite.internal;

import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes what has expired (results, revocations, once keys, idempotency keys, heartbeats) so the
 * file stays bounded under a steady load. Runs in consumer processes only: started by the first
 * claim, every {@link #INTERVAL}.
 */
public final class Janitor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Janitor.class);

  /** How often expired rows are deleted. */
  public static final Duration INTERVAL = Duration.ofSeconds(30);

  private static final String[] TABLES = {
    "results", "revoked", "once_keys", "idempotency_keys", "workers"
  };

  private final Db db;
  private final Clock clock;
  private ScheduledExecutorService timer;

  public Janitor(Db db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Starts the periodic purge; idempotent. */
  public synchronized void start() {
    if (timer != null) {
      return;
    }
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "errand-sqlite-janitor");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(
        this::safePurge, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void safePurge() {
    try {
      purge();
    } catch (RuntimeException e) {
      if (!db.isClosed()) {
        log.warn("purging expired rows failed: {}", e.toString());
      }
    }
  }

  /** Deletes every expired row now; returns how many. */
  public long purge() {
    long now = clock.millis();
    return db.tx(
        "purge expired",
        d -> {
          long deleted = 0;
          for (String table : TABLES) {
            PreparedStatement ps = d.prepare("DELETE FROM " + table + " WHERE expires_at <= ?");
            ps.setLong(1, now);
            deleted += ps.executeUpdate();
          }
          return deleted;
        });
  }

  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
