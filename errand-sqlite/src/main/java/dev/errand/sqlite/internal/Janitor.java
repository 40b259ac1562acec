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
 * Keeps the files bounded under a steady load: deletes what has expired (results, revocations, once
 * keys, idempotency keys, heartbeats, groups, chords and their parts), then checkpoints the WAL and
 * truncates it. SQLite's own checkpoints (every 1,000 pages written) copy the WAL into the database
 * but never shrink it, and cannot reach its end while other processes keep reading older snapshots;
 * so with several processes on one file the WAL can grow without end. A truncating checkpoint
 * briefly holds new writers back until those readers move on, for at most {@link #CHECKPOINT_WAIT},
 * and empties it. Runs in consumer processes only: started by the first claim, every {@link
 * #INTERVAL}.
 *
 * <p>Once started it also takes SQLite's own checkpoints off the commit path: the process's
 * connection no longer copies the WAL into the database when a commit crosses 1,000 pages (a copy
 * and an fsync of several milliseconds, during which every other thread of the process waits for
 * the connection: the latency tail of an idle worker). Instead, every {@link #COPY_INTERVAL} with
 * commits since the last time, a passive checkpoint on a connection of its own copies the WAL
 * without holding up any reader or writer; before the truncating checkpoint (on the process's
 * connection) a passive one there does the bulk of the copying.
 */
public final class Janitor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Janitor.class);

  /** How often expired rows are deleted and the WAL checkpointed: 30 s. */
  public static final Duration INTERVAL = Duration.ofSeconds(30);

  /** How long a checkpoint waits for other processes' readers before it tries again later: 1 s. */
  public static final Duration CHECKPOINT_WAIT = Duration.ofSeconds(1);

  /**
   * How often, while there are commits, the WAL is copied into the database: 200 ms. Often enough
   * that a burst of writes never leaves a WAL of tens of megabytes, whose copy and cutting back
   * would then stall the first commit after it.
   */
  public static final Duration COPY_INTERVAL = Duration.ofMillis(200);

  private static final String[] TABLES = {
    "results",
    "revoked",
    "once_keys",
    "idempotency_keys",
    "workers",
    "workflow_groups",
    "workflow_steps",
    "chords",
    "chord_parts"
  };

  private final Db db;
  private final Clock clock;
  private final Duration copyInterval;
  private ScheduledExecutorService timer;
  private volatile Db checkpoints; // a connection of its own for checkpoints, once started
  private long copiedAt = -1; // db.commits() at the last copy (timer thread only)

  public Janitor(Db db, Clock clock) {
    this(db, clock, COPY_INTERVAL);
  }

  Janitor(Db db, Clock clock, Duration copyInterval) {
    this.db = db;
    this.clock = clock;
    this.copyInterval = copyInterval;
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
    try {
      checkpoints = new Db(db.file());
      db.autoCheckpoint(false);
    } catch (RuntimeException e) {
      // Commits keep copying the WAL themselves, as SQLite does by default.
      log.warn("cannot open a connection for checkpoints to {}: {}", db.file(), e.getMessage());
      if (checkpoints != null) {
        checkpoints.close();
        checkpoints = null;
      }
    }
    timer.scheduleWithFixedDelay(
        this::runOnce, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    if (checkpoints != null) {
      timer.scheduleWithFixedDelay(
          this::copyCommits,
          copyInterval.toMillis(),
          copyInterval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  /** Copies the WAL into the database if anything was committed since the last time. */
  void copyCommits() {
    long commits = db.commits();
    if (commits == copiedAt) {
      return;
    }
    copiedAt = commits;
    try {
      checkpointConnection().copyWal();
    } catch (RuntimeException e) {
      if (!db.isClosed()) {
        log.debug("copying the WAL failed: {}", e.getMessage());
      }
    }
  }

  private Db checkpointConnection() {
    Db c = checkpoints;
    return c != null ? c : db;
  }

  /** One round of the janitor's duties: purge, then checkpoint; failures are logged, not thrown. */
  public void runOnce() {
    try {
      purge();
    } catch (RuntimeException e) {
      if (!db.isClosed()) {
        log.warn("purging expired rows failed: {}", e.getMessage());
      }
    }
    try {
      if (!checkpoint()) {
        log.debug("the WAL of {} is still read by another process; checkpoint later", db.file());
      }
    } catch (RuntimeException e) {
      if (!db.isClosed()) {
        log.warn("checkpointing the WAL failed: {}", e.getMessage());
      }
    }
  }

  /**
   * Copies the WAL into the database and truncates it, waiting up to {@link #CHECKPOINT_WAIT} for
   * readers of older snapshots in other processes.
   *
   * @return true if the WAL is empty now, false if a reader held it (the next round tries again)
   */
  public boolean checkpoint() {
    Db c = checkpointConnection();
    if (c != db) {
      c.copyWal(); // the bulk, holding up nobody: the truncating one then has little left
    }
    // On this process's own connection: on another, it would wait for this process's readers
    // and writers in SQLite's busy handler (sleeps of 1 to 25 ms), holding every writer back.
    return db.checkpoint((int) CHECKPOINT_WAIT.toMillis());
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
          // Idle flow-control keys whose rate has recovered: a million keys used once each cost
          // nothing after their period.
          deleted += SqliteLimits.forgetIdle(d, now);
          return deleted;
        });
  }

  @Override
  public void close() {
    ScheduledExecutorService t;
    Db c;
    synchronized (this) {
      t = timer;
      c = checkpoints;
      checkpoints = null;
    }
    if (t != null) {
      t.shutdownNow();
      try {
        t.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (c != null) {
      c.close();
    }
  }
}
