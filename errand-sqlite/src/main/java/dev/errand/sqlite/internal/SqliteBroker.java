package dev.errand.sqlite.internal;

import dev.errand.TaskOptions;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The broker in SQLite. A claim is one {@code UPDATE ... RETURNING} per queue inside an IMMEDIATE
 * transaction, so no two consumers, in this process or another, ever lease the same message. An
 * enqueue or wakeup in this process ends a waiting claim at once, and so does another process's
 * commit to the file, as the file system reports it ({@link CommitWatch}); idle consumers also poll
 * with a backoff (2 ms doubling to {@link #MAX_POLL}) for what no commit announces (a delayed
 * message coming due, an expired lease) and where the file system reports nothing.
 */
public final class SqliteBroker implements Broker {

  /** The longest an idle consumer waits between two looks at the file. */
  public static final Duration MAX_POLL = Duration.ofMillis(50);

  private static final long MIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final String CLAIM =
      """
      UPDATE messages SET receipt = ? || id, lease_until = ?, deliveries = deliveries + 1
      WHERE rowid IN (
        SELECT rowid FROM messages
        WHERE queue = ? AND held = 0 AND available_at <= ? AND (receipt IS NULL OR lease_until <= ?)
        ORDER BY priority DESC, available_at, rowid LIMIT ?)
      RETURNING id, priority, available_at, rowid, body, deliveries, receipt""";

  private final Db db;
  private final Clock clock;
  private final Runnable onFirstClaim;
  private final ReentrantLock waitLock = new ReentrantLock();
  private final Condition changed = waitLock.newCondition();
  private long generation; // local enqueues and hand-backs, guarded by waitLock
  private long wakeups; // wakeup() calls, guarded by waitLock
  private volatile boolean claimed;
  private final CommitWatch watch;

  public SqliteBroker(Db db, Clock clock, Runnable onFirstClaim) {
    this.db = db;
    this.clock = clock;
    this.onFirstClaim = onFirstClaim;
    this.watch = new CommitWatch(db, this::changed);
  }

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    long now = clock.millis();
    List<EnqueueResult> out =
        db.tx(
            "enqueue",
            d -> {
              List<EnqueueResult> results = new ArrayList<>(messages.size());
              for (NewMessage m : messages) {
                String first = keyHolder(d, m, now);
                if (first != null) {
                  results.add(new EnqueueResult(first, true));
                  continue;
                }
                claimKey(d, m, now);
                PreparedStatement insert = d.prepare(INSERT);
                bind(insert, m, now);
                insert.executeUpdate();
                heldIfLimited(d, m, now);
                results.add(new EnqueueResult(m.id(), false));
              }
              return results;
            });
    changed();
    return out;
  }

  /**
   * Enqueues, inside the caller's transaction, those of {@code messages} whose id is not stored as
   * a message yet and whose idempotency key (if any) is not held (a settlement's follow-ups); call
   * {@link #changed()} after commit.
   *
   * @return how many were enqueued
   */
  public int enqueueNew(Db d, List<NewMessage> messages, long now) throws SQLException {
    int added = 0;
    for (NewMessage m : messages) {
      if (m.idempotencyKey() != null) {
        // The stored message wins before its key is looked at, as in memory: a key is never
        // given to a message that is not enqueued.
        PreparedStatement exists = d.prepare("SELECT 1 FROM messages WHERE id = ?");
        exists.setString(1, m.id());
        try (ResultSet rs = exists.executeQuery()) {
          if (rs.next()) {
            continue;
          }
        }
        if (keyHolder(d, m, now) != null) {
          continue;
        }
      }
      if (m.uniqueKey() != null && uniqueHolder(d, m) != null) {
        continue;
      }
      claimKey(d, m, now);
      // A message stored under this id already stays as it is: no error, no second copy.
      PreparedStatement insert = d.prepare(INSERT + " ON CONFLICT (id) DO NOTHING");
      bind(insert, m, now);
      int n = insert.executeUpdate();
      if (n > 0) {
        heldIfLimited(d, m, now);
      }
      added += n;
    }
    return added;
  }

  private static final String INSERT =
      "INSERT INTO messages (id, queue, priority, available_at, body, held, limit_key, unique_key)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

  /** A limited message is stored held: its key learns of it. */
  private static void heldIfLimited(Db d, NewMessage m, long now) throws SQLException {
    if (m.limit() != null) {
      SqliteLimits.held(d, m.queue(), m.limit(), now);
    }
  }

  /**
   * The id of the message that holds {@code m}'s idempotency key within its window, or its unique
   * key; null if {@code m} may be enqueued.
   */
  private static String keyHolder(Db d, NewMessage m, long now) throws SQLException {
    if (m.idempotencyKey() != null) {
      String first = keyHolder(d, m.idempotencyKey(), now);
      if (first != null) {
        return first;
      }
    }
    return m.uniqueKey() == null ? null : uniqueHolder(d, m);
  }

  private static String uniqueHolder(Db d, NewMessage m) throws SQLException {
    PreparedStatement ps = d.prepare("SELECT id FROM messages WHERE queue = ? AND unique_key = ?");
    ps.setString(1, m.queue());
    ps.setString(2, m.uniqueKey());
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private static void bind(PreparedStatement insert, NewMessage m, long now) throws SQLException {
    insert.setString(1, m.id());
    insert.setString(2, m.queue());
    insert.setInt(3, m.priority());
    insert.setLong(4, m.notBefore() == null ? now : m.notBefore().toEpochMilli());
    insert.setBytes(5, m.body());
    insert.setInt(6, m.limit() == null ? 0 : 1);
    insert.setString(7, m.limit() == null ? null : m.limit().key());
    insert.setString(8, m.uniqueKey());
  }

  /** Takes {@code m}'s idempotency key for it, if it has one (checked free before). */
  private static void claimKey(Db d, NewMessage m, long now) throws SQLException {
    if (m.idempotencyKey() == null) {
      return;
    }
    PreparedStatement key =
        d.prepare("INSERT OR REPLACE INTO idempotency_keys (key, id, expires_at) VALUES (?, ?, ?)");
    key.setString(1, m.idempotencyKey());
    key.setString(2, m.id());
    key.setLong(3, now + m.idempotencyWindow().toMillis());
    key.executeUpdate();
  }

  private static String keyHolder(Db d, String key, long now) throws SQLException {
    PreparedStatement ps =
        d.prepare("SELECT id FROM idempotency_keys WHERE key = ? AND expires_at > ?");
    ps.setString(1, key);
    ps.setLong(2, now);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Override
  public List<Delivery> claim(List<String> queues, int max, Duration lease, Duration wait)
      throws InterruptedException {
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("queues must not be empty");
    }
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0 but was " + max);
    }
    if (!claimed) {
      claimed = true;
      onFirstClaim.run();
    }
    if (!wait.isZero()) {
      watch.start();
    }
    long deadline = System.nanoTime() + wait.toNanos();
    long poll = MIN_POLL_NANOS;
    long wakeupsAtStart;
    waitLock.lock();
    try {
      wakeupsAtStart = wakeups;
    } finally {
      waitLock.unlock();
    }
    boolean watching = false;
    try {
      while (true) {
        long seen;
        waitLock.lock();
        try {
          seen = generation;
        } finally {
          waitLock.unlock();
        }
        List<Delivery> taken = take(queues, max, lease);
        long remaining = deadline - System.nanoTime();
        if (!taken.isEmpty() || remaining <= 0) {
          return taken;
        }
        if (!watching) {
          // Other processes' commits are looked at only while a claim waits, not at every write
          // of a busy worker; one that landed since this claim looked is looked for now.
          watching = true;
          if (watch.startWaiting()) {
            continue;
          }
        }
        waitLock.lockInterruptibly();
        try {
          if (wakeups == wakeupsAtStart && generation == seen) {
            changed.awaitNanos(Math.min(remaining, poll));
          }
          if (wakeups != wakeupsAtStart) {
            return List.of(); // wakeup(): the caller wants to look at its state
          }
          if (generation != seen) {
            poll = MIN_POLL_NANOS; // a local enqueue: look again at once
            continue;
          }
        } finally {
          waitLock.unlock();
        }
        poll = Math.min(poll * 2, MAX_POLL.toNanos());
      }
    } finally {
      if (watching) {
        watch.stopWaiting();
      }
    }
  }

  private List<Delivery> take(List<String> queues, int max, Duration lease) {
    long now = clock.millis();
    long until = now + lease.toMillis();
    byte[] token = new byte[8];
    RANDOM.nextBytes(token);
    String prefix = HexFormat.of().formatHex(token) + ":";
    return db.tx(
        "claim",
        d -> {
          List<Delivery> out = new ArrayList<>();
          Set<String> paused = PausedQueues.all(d);
          for (String queue : queues) {
            int want = max - out.size();
            if (want <= 0) {
              break;
            }
            if (paused.contains(queue)) {
              continue;
            }
            // Held messages whose key is due first (see MemoryBroker): they waited for their turn.
            int before = out.size();
            SqliteLimits.take(d, queue, want, now, prefix, until, out);
            want -= out.size() - before;
            if (want <= 0) {
              break;
            }
            PreparedStatement ps = d.prepare(CLAIM);
            ps.setString(1, prefix);
            ps.setLong(2, until);
            ps.setString(3, queue);
            ps.setLong(4, now);
            ps.setLong(5, now);
            ps.setInt(6, want);
            List<Object[]> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(
                    new Object[] {
                      rs.getString(1),
                      rs.getInt(2),
                      rs.getLong(3),
                      rs.getLong(4),
                      rs.getBytes(5),
                      rs.getInt(6),
                      rs.getString(7)
                    });
              }
            }
            // RETURNING does not promise an order: restore the queue's.
            rows.sort(
                Comparator.<Object[]>comparingInt(r -> -(Integer) r[1])
                    .thenComparingLong(r -> (Long) r[2])
                    .thenComparingLong(r -> (Long) r[3]));
            for (Object[] r : rows) {
              out.add(
                  new Delivery(
                      (String) r[0],
                      queue,
                      (Integer) r[1],
                      (byte[]) r[4],
                      (Integer) r[5],
                      (String) r[6],
                      Instant.ofEpochMilli(until)));
            }
          }
          return out;
        });
  }

  @Override
  public boolean ack(Delivery delivery) {
    return db.tx("ack", d -> ack(d, delivery));
  }

  /** Acks inside the caller's transaction. */
  /** Whether {@code delivery}'s receipt is current, inside the caller's transaction. */
  public boolean holds(Db d, Delivery delivery) throws SQLException {
    PreparedStatement ps = d.prepare("SELECT 1 FROM messages WHERE id = ? AND receipt = ?");
    ps.setString(1, delivery.id());
    ps.setString(2, delivery.receipt());
    try (java.sql.ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  public boolean ack(Db d, Delivery delivery) throws SQLException {
    PreparedStatement ps =
        d.prepare("DELETE FROM messages WHERE id = ? AND receipt = ? RETURNING limit_key");
    ps.setString(1, delivery.id());
    ps.setString(2, delivery.receipt());
    return changedLease(d, ps, delivery, false, false);
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    if (deliveries.isEmpty()) {
      return Set.of();
    }
    long until = clock.millis() + lease.toMillis();
    return db.tx(
        "renew",
        d -> {
          Set<String> lost = new HashSet<>();
          PreparedStatement ps =
              d.prepare("UPDATE messages SET lease_until = ? WHERE id = ? AND receipt = ?");
          for (Delivery del : deliveries) {
            ps.setLong(1, until);
            ps.setString(2, del.id());
            ps.setString(3, del.receipt());
            if (ps.executeUpdate() != 1) {
              lost.add(del.id());
            }
          }
          return lost;
        });
  }

  @Override
  public boolean release(Delivery delivery) {
    boolean released = db.tx("release", d -> release(d, delivery));
    if (released) {
      changed();
    }
    return released;
  }

  /**
   * Hands a delivery back inside the caller's transaction; call {@link #changed()} after commit.
   *
   * @return false if its receipt was stale
   */
  public boolean release(Db d, Delivery delivery) throws SQLException {
    PreparedStatement ps =
        d.prepare(
            "UPDATE messages SET receipt = NULL, lease_until = NULL,"
                + " deliveries = MAX(deliveries - 1, 0), held = (limit_key IS NOT NULL)"
                + " WHERE id = ? AND receipt = ? RETURNING limit_key");
    ps.setString(1, delivery.id());
    ps.setString(2, delivery.receipt());
    return changedLease(d, ps, delivery, true, true);
  }

  /**
   * Runs {@code ps}, a delete or update of one leased message returning its limit key, and tells
   * its key the message holds no place in its concurrency any more: gone, or waiting again ({@code
   * heldAgain}, with its start given back to the rate when {@code refund}).
   *
   * @return false if the receipt was stale (nothing changed)
   */
  private boolean changedLease(
      Db d, PreparedStatement ps, Delivery delivery, boolean heldAgain, boolean refund)
      throws SQLException {
    String limitKey;
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return false;
      }
      limitKey = rs.getString(1);
    }
    if (limitKey != null) {
      SqliteLimits.freed(d, delivery.queue(), limitKey, clock.millis(), heldAgain, refund);
    }
    return true;
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    boolean done = db.tx("retry", d -> retry(d, delivery, body, notBefore));
    if (done) {
      changed();
    }
    return done;
  }

  /**
   * Replaces a delivery's body and delays it inside the caller's transaction; call {@link
   * #changed()} after commit.
   *
   * @return false if its receipt was stale
   */
  public boolean retry(Db d, Delivery delivery, byte[] body, Instant notBefore)
      throws SQLException {
    PreparedStatement ps =
        d.prepare(
            "UPDATE messages SET body = ?, available_at = ?, receipt = NULL,"
                + " lease_until = NULL, deliveries = 0, held = (limit_key IS NOT NULL),"
                // to the back of its band, as on the other backends: behind what waits already
                + " rowid = (SELECT MAX(rowid) + 1 FROM messages)"
                + " WHERE id = ? AND receipt = ? RETURNING limit_key");
    ps.setBytes(1, body);
    ps.setLong(2, notBefore.toEpochMilli());
    ps.setString(3, delivery.id());
    ps.setString(4, delivery.receipt());
    return changedLease(d, ps, delivery, true, false);
  }

  /** Stops watching the file for other processes' commits. */
  public void close() {
    watch.close();
  }

  @Override
  public void wakeup() {
    waitLock.lock();
    try {
      wakeups++;
      changed.signalAll();
    } finally {
      waitLock.unlock();
    }
  }

  /**
   * Wakes this process's waiting claims: call after committing a transaction that made messages
   * ready (an enqueue, a release, a retry).
   */
  public void changed() {
    waitLock.lock();
    try {
      generation++;
      changed.signalAll();
    } finally {
      waitLock.unlock();
    }
  }

  @Override
  public List<String> queues() {
    return db.read(
        "queues",
        d -> {
          List<String> names = new ArrayList<>();
          try (ResultSet rs =
              d.prepare(
                      "SELECT queue FROM messages UNION SELECT queue FROM paused_queues"
                          + " ORDER BY queue")
                  .executeQuery()) {
            while (rs.next()) {
              names.add(rs.getString(1));
            }
          }
          return names;
        });
  }

  @Override
  public QueueStats stats(String queue) {
    long now = clock.millis();
    return db.read(
        "stats",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  """
                  SELECT
                    CASE WHEN held = 1 THEN 'limited'
                         WHEN receipt IS NOT NULL AND lease_until > ?1 THEN 'leased'
                         WHEN available_at > ?1 THEN 'delayed' ELSE 'ready' END AS kind,
                    priority, COUNT(*), MIN(available_at)
                  FROM messages WHERE queue = ?2 GROUP BY kind, priority""");
          ps.setLong(1, now);
          ps.setString(2, queue);
          long ready = 0;
          long leased = 0;
          long delayed = 0;
          long limited = 0;
          Long oldest = null;
          Map<Integer, Long> byPriority = new HashMap<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              long n = rs.getLong(3);
              switch (rs.getString(1)) {
                case "leased" -> leased += n;
                case "limited" -> limited += n;
                case "delayed" -> delayed += n;
                default -> {
                  ready += n;
                  byPriority.merge(rs.getInt(2), n, Long::sum);
                  long at = rs.getLong(4);
                  oldest = oldest == null ? at : Math.min(oldest, at);
                }
              }
            }
          }
          boolean paused = PausedQueues.contains(d, queue);
          return new QueueStats(
              queue,
              ready,
              leased,
              delayed,
              byPriority,
              oldest == null ? null : Instant.ofEpochMilli(oldest),
              paused,
              limited);
        });
  }

  @Override
  public void pause(String queue) {
    TaskOptions.validQueue(queue);
    db.tx("pause", d -> PausedQueues.add(d, queue));
  }

  @Override
  public void resume(String queue) {
    TaskOptions.validQueue(queue);
    if (db.tx("resume", d -> PausedQueues.remove(d, queue))) {
      changed(); // other processes see the commit to the file
    }
  }

  @Override
  public List<dev.errand.spi.LimitStats> limits(String queue, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0 but was " + max);
    }
    long now = clock.millis();
    return db.read("limits", d -> SqliteLimits.stats(d, queue, max, now));
  }

  @Override
  public List<String> pausedQueues() {
    return db.read("paused queues", PausedQueues::list);
  }

  @Override
  public long purge(String queue) {
    long now = clock.millis();
    return db.tx(
        "purge",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  "DELETE FROM messages WHERE queue = ? AND (receipt IS NULL OR lease_until <= ?)"
                      + " RETURNING limit_key, held");
          ps.setString(1, queue);
          ps.setLong(2, now);
          long deleted = 0;
          Map<String, long[]> byKey = new HashMap<>(); // key -> {leased, held}
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              deleted++;
              String key = rs.getString(1);
              if (key != null) {
                byKey.computeIfAbsent(key, k -> new long[2])[rs.getInt(2) == 1 ? 1 : 0]++;
              }
            }
          }
          for (Map.Entry<String, long[]> e : byKey.entrySet()) {
            SqliteLimits.purged(d, queue, e.getKey(), e.getValue()[0], e.getValue()[1], now);
          }
          return deleted;
        });
  }
}
