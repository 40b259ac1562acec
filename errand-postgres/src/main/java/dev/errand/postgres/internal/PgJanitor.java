package dev.errand.postgres.internal;

import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the tables bounded under a steady load: deletes what has expired by the database's clock
 * (results, revocations, once keys, idempotency keys, heartbeats, groups, chord state, leader
 * leases) and the limit keys gone idle, in batches of {@value #BATCH} rows, each batch its own
 * short transaction, so that no purge holds locks or builds one huge transaction (autovacuum then
 * reclaims the rows; see docs/postgres.md). Rows another process's janitor is deleting are skipped
 * ({@code SKIP LOCKED}), so janitors of many workers do not queue behind each other. Runs in
 * consumer processes only: started by the first claim, every {@link #INTERVAL}. Messages need no
 * purge: an ack deletes its row.
 */
public final class PgJanitor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PgJanitor.class);

  /** How often expired rows are deleted: 30 s. */
  public static final Duration INTERVAL = Duration.ofSeconds(30);

  /** The most rows one delete statement removes: {@value}. */
  public static final int BATCH = 10_000;

  /** The tables with an {@code expires_at} column, in ms, each indexed on it. */
  static final String[] TABLES = {
    "results",
    "revoked",
    "once_keys",
    "idempotency_keys",
    "workers",
    "workflow_groups",
    "workflow_steps",
    "chords",
    "chord_parts",
    "leases"
  };

  private final Pg pg;
  private ScheduledExecutorService timer;
  private volatile boolean closed;

  public PgJanitor(Pg pg) {
    this.pg = pg;
  }

  /** Starts the periodic purge; idempotent. */
  public synchronized void start() {
    if (timer != null || closed) {
      return;
    }
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "errand-pg-janitor-" + pg.schema());
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(
        this::runOnce, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One round: purge, failures logged, not thrown. */
  void runOnce() {
    try {
      purge();
    } catch (RuntimeException e) {
      if (!closed) {
        log.warn("purging expired rows of schema {} failed: {}", pg.schema(), e.getMessage());
      }
    }
  }

  /**
   * Deletes every expired row now, batch by batch.
   *
   * @return how many rows were deleted
   */
  public long purge() {
    long total = 0;
    for (String table : TABLES) {
      String sql =
          "DELETE FROM {s}."
              + table
              + " WHERE ctid IN (SELECT ctid FROM {s}."
              + table
              + " WHERE expires_at <= {now} LIMIT "
              + BATCH
              + " FOR UPDATE SKIP LOCKED)";
      total += batches("purge expired " + table, sql);
    }
    total +=
        batches(
            "forget idle limit keys",
            "DELETE FROM {s}.limit_keys WHERE ctid IN (SELECT ctid FROM {s}.limit_keys"
                + " WHERE running = 0 AND held = 0 AND tat <= {now} LIMIT "
                + BATCH
                + " FOR UPDATE SKIP LOCKED)");
    return total;
  }

  private long batches(String what, String sql) {
    long total = 0;
    while (!closed) {
      int n =
          pg.read(
              what,
              t -> {
                PreparedStatement ps = t.prepare(sql);
                return ps.executeUpdate();
              });
      total += n;
      if (n < BATCH) {
        break;
      }
    }
    return total;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
