package dev.errand.postgres.internal;

import dev.errand.TaskOptions;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.EnqueueResult;
import dev.errand.spi.LimitStats;
import dev.errand.spi.NewMessage;
import dev.errand.spi.QueueStats;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker on PostgreSQL.
 *
 * <p>A claim is one statement per queue: it locks the first ready messages in the queue's order
 * with {@code FOR UPDATE SKIP LOCKED} (consumers never wait on each other's rows) and leases them
 * in the same {@code UPDATE ... RETURNING}; messages whose lease ran out are taken in the same
 * statement. Delayed messages are moved to ready by the claim once due (one index probe), so the
 * ready index holds only what may run now. Before the queues, one statement reads the paused queues
 * and the queues whose limit keys are due, and promotes the due delayed messages.
 *
 * <p>An enqueue of plain messages (no idempotency, unique or limit key) is one statement for the
 * whole batch, which also notifies the queues ({@code pg_notify}, delivered on commit). An idle
 * claim waits for a notification of one of its queues, for {@link #wakeup()}, or until the next
 * delayed message, lease or limit key comes due, whichever is first; never in a polling loop (only
 * a {@link #MAX_IDLE_WAIT} backstop against notifications lost with the connection).
 */
public final class PgBroker implements Broker {

  /** The longest an idle claim waits without a notification before it looks again: 5 s. */
  public static final Duration MAX_IDLE_WAIT = Duration.ofSeconds(5);

  /** The most delayed messages one claim moves to ready: {@value}. */
  static final int PROMOTE_BATCH = 1000;

  private static final Logger log = LoggerFactory.getLogger(PgBroker.class);

  private static final SecureRandom RANDOM = new SecureRandom();

  private static final String INSERT_PLAIN =
      """
      WITH ins AS (
        INSERT INTO {s}.messages (id, queue, priority, available_at, delayed, body)
        SELECT m.id, m.queue, m.priority, COALESCE(m.at, {now}), COALESCE(m.at > {now}, false),
          m.body
        FROM unnest(?::text[], ?::text[], ?::smallint[], ?::bigint[], ?::bytea[])
          AS m (id, queue, priority, at, body)
        RETURNING queue, delayed)
      SELECT pg_notify(?, q.queue) FROM (SELECT DISTINCT queue FROM ins WHERE NOT delayed) q""";

  private static final String ENQUEUE_PLAIN =
      "SELECT {s}.enqueue_plain(?::text[], ?::text[], ?::smallint[], ?::bigint[], ?::bytea[],"
          + " {now}, ?, ?)";

  private static final String ENQUEUE_ONE = "SELECT {s}.enqueue_one(?, ?, ?, ?, ?, {now}, ?, ?)";

  private static final String REGISTER_WAITER = "SELECT {s}.register_waiter(?::text[], {now} + ?)";

  /** How long a registration of a waiting claim lives, and when it is renewed (time left). */
  static final long WAITER_TTL_MS = 30_000;

  static final long WAITER_RENEW_MS = 15_000;

  /** The longest sleep of a claim whose registration failed: it has no promise of a wake-up. */
  static final long UNREGISTERED_WAIT_MS = 100;

  /** {@link #INSERT_PLAIN} for one message: no arrays to build and take apart. */
  private static final String INSERT_PLAIN_ONE =
      """
      WITH ins AS (
        INSERT INTO {s}.messages (id, queue, priority, available_at, delayed, body)
        VALUES (?, ?, ?, COALESCE(?, {now}), COALESCE(? > {now}, false), ?)
        RETURNING queue, delayed)
      SELECT pg_notify(?, queue) FROM ins WHERE NOT delayed""";

  private static final String INSERT_ONE =
      """
      INSERT INTO {s}.messages
        (id, queue, priority, available_at, delayed, held, body, limit_key, unique_key)
      VALUES (?, ?, ?, COALESCE(?, {now}), ? AND COALESCE(? > {now}, false), ?, ?, ?, ?)
      ON CONFLICT DO NOTHING RETURNING id""";

  /** Moves a queue's due delayed messages to ready, at most {@value #PROMOTE_BATCH} at a time. */
  private static final String PROMOTE =
      """
      UPDATE {s}.messages m SET delayed = false
      FROM (SELECT id FROM {s}.messages
            WHERE queue = ? AND delayed AND available_at <= {now}
            ORDER BY available_at LIMIT %d FOR UPDATE SKIP LOCKED) due
      WHERE m.id = due.id"""
          .formatted(PROMOTE_BATCH);

  /**
   * A claim's common case in one statement: unless the queue is paused, has a limit key due or
   * delayed messages due (the flags it returns, each one index probe), it leases as {@link #CLAIM}
   * does. With a flag set it leases nothing, and the claim does what the flag asks before {@link
   * #CLAIM}: due keys first, then the due delayed messages moved to ready.
   */
  private static final String CLAIM_FAST =
      """
      WITH f AS (
        SELECT
          EXISTS (SELECT 1 FROM {s}.paused_queues WHERE queue = ?) AS paused,
          EXISTS (SELECT 1 FROM {s}.limit_keys
                  WHERE queue = ? AND due_at IS NOT NULL AND due_at <= {now}) AS keys,
          EXISTS (SELECT 1 FROM {s}.messages
                  WHERE queue = ? AND delayed AND available_at <= {now}) AS due),
      r AS (
        SELECT id, priority, available_at, seq FROM {s}.messages
        WHERE queue = ? AND receipt IS NULL AND NOT delayed AND NOT held
          AND NOT (SELECT paused OR keys OR due FROM f)
        ORDER BY priority DESC, available_at, seq LIMIT ? FOR UPDATE SKIP LOCKED),
      e AS (
        SELECT id, priority, available_at, seq FROM {s}.messages
        WHERE queue = ? AND receipt IS NOT NULL AND lease_until <= {now} AND NOT held
          AND NOT (SELECT paused OR keys OR due FROM f)
        ORDER BY lease_until LIMIT ? FOR UPDATE SKIP LOCKED),
      c AS (
        SELECT id FROM (SELECT * FROM r UNION ALL SELECT * FROM e) x
        ORDER BY priority DESC, available_at, seq LIMIT ?),
      u AS (
        UPDATE {s}.messages m
        SET receipt = ? || m.id, lease_until = {now} + ?, deliveries = m.deliveries + 1
        FROM c WHERE m.id = c.id
        RETURNING m.id, m.priority, m.available_at, m.seq, m.body, m.deliveries, m.receipt,
          m.lease_until)
      SELECT u.id, u.priority, u.available_at, u.seq, u.body, u.deliveries, u.receipt,
        u.lease_until, f.paused, f.keys, f.due
      FROM f LEFT JOIN u ON true""";

  private static final String CLAIM =
      """
      WITH r AS (
        SELECT id, priority, available_at, seq FROM {s}.messages
        WHERE queue = ? AND receipt IS NULL AND NOT delayed AND NOT held
        ORDER BY priority DESC, available_at, seq LIMIT ? FOR UPDATE SKIP LOCKED),
      e AS (
        SELECT id, priority, available_at, seq FROM {s}.messages
        WHERE queue = ? AND receipt IS NOT NULL AND lease_until <= {now} AND NOT held
        ORDER BY lease_until LIMIT ? FOR UPDATE SKIP LOCKED),
      c AS (
        SELECT id FROM (SELECT * FROM r UNION ALL SELECT * FROM e) x
        ORDER BY priority DESC, available_at, seq LIMIT ?)
      UPDATE {s}.messages m
      SET receipt = ? || m.id, lease_until = {now} + ?, deliveries = m.deliveries + 1
      FROM c WHERE m.id = c.id
      RETURNING m.id, m.priority, m.available_at, m.seq, m.body, m.deliveries, m.receipt,
        m.lease_until""";

  /** When the next delayed message, lost lease or limit key of the queues comes due, in ms. */
  private static final String NEXT_DUE =
      """
      SELECT LEAST(
        (SELECT min(d.at) FROM unnest(?::text[]) q(name), LATERAL (
           SELECT available_at AS at FROM {s}.messages
           WHERE queue = q.name AND delayed ORDER BY available_at LIMIT 1) d),
        (SELECT min(l.at) FROM unnest(?::text[]) q(name), LATERAL (
           SELECT lease_until AS at FROM {s}.messages
           WHERE queue = q.name AND receipt IS NOT NULL ORDER BY lease_until LIMIT 1) l),
        (SELECT min(due_at)::bigint FROM {s}.limit_keys WHERE queue = ANY(?) AND due_at IS NOT NULL)
      ) - {now}""";

  private final Pg pg;
  private final PgNotifier notifier;
  private final String messagesChannel;
  private final ReentrantLock waitLock = new ReentrantLock();
  private final Condition changed = waitLock.newCondition();
  // What a waiting claim compares to see whether to look again: a change of unknown queues bumps
  // the generation, a change of one queue its own count, so a claim of other queues sleeps on.
  private long generation; // guarded by waitLock
  private final Map<String, Long> queueChanges = new HashMap<>(); // guarded by waitLock
  private long wakeups; // wakeup() calls, guarded by waitLock
  // Until when (System.nanoTime()) this process's registration as a waiting claim of
  // each queue stands; renewed by an idle claim when less than WAITER_RENEW_MS is left.
  private final Map<String, Long> registeredUntil = new HashMap<>();
  private final Runnable onFirstClaim;
  private volatile boolean listening;
  private volatile boolean claimed;

  /**
   * @param onFirstClaim run once, by the first claim (starts the janitor in consumer processes)
   */
  public PgBroker(Pg pg, PgNotifier notifier, Runnable onFirstClaim) {
    this.pg = pg;
    this.notifier = notifier;
    this.onFirstClaim = onFirstClaim;
    this.messagesChannel = notifier.channel(PgNotifier.MESSAGES);
  }

  // ---- enqueue ----

  @Override
  public List<EnqueueResult> enqueue(List<NewMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    boolean plain = true;
    for (NewMessage m : messages) {
      plain &= m.idempotencyKey() == null && m.uniqueKey() == null && m.limit() == null;
    }
    // Plain messages are one statement, atomic by itself: no BEGIN/COMMIT round trip around it.
    List<EnqueueResult> out =
        plain
            ? pg.read("enqueue", t -> enqueue(t, messages, true))
            : pg.tx("enqueue", t -> enqueue(t, messages, false));
    Set<String> queues = new HashSet<>();
    for (NewMessage m : messages) {
      queues.add(m.queue());
    }
    changed(queues);
    return out;
  }

  /**
   * Enqueues {@code messages} in the caller's transaction (its own, or the application's); the
   * queues are notified when it commits.
   */
  public List<EnqueueResult> enqueue(Pg.Tx t, List<NewMessage> messages) throws SQLException {
    return enqueue(t, messages, false);
  }

  /**
   * @param ownStatement the enqueue is a statement of its own (autocommit), so plain messages may
   *     notify only the queues where a claim waits (see V2__wakeups.sql); in anyone's transaction
   *     every ready queue is notified
   */
  private List<EnqueueResult> enqueue(Pg.Tx t, List<NewMessage> messages, boolean ownStatement)
      throws SQLException {
    List<NewMessage> plain = new ArrayList<>(messages.size());
    for (NewMessage m : messages) {
      if (m.idempotencyKey() == null && m.uniqueKey() == null && m.limit() == null) {
        plain.add(m);
      }
    }
    if (plain.size() == messages.size()) {
      if (ownStatement) {
        insertPlainNotifyingWaiters(t, plain);
      } else {
        insertPlain(t, plain);
      }
      List<EnqueueResult> out = new ArrayList<>(messages.size());
      for (NewMessage m : messages) {
        out.add(new EnqueueResult(m.id(), false));
      }
      return out;
    }
    // Keys are taken message by message, in order: a later message may meet an earlier one's key.
    List<EnqueueResult> out = new ArrayList<>(messages.size());
    Set<String> ready = new LinkedHashSet<>();
    for (NewMessage m : messages) {
      String holder = enqueueKeyed(t, m, false);
      if (holder != null) {
        out.add(new EnqueueResult(holder, true));
      } else {
        out.add(new EnqueueResult(m.id(), false));
        if (m.notBefore() == null || m.limit() != null) {
          ready.add(m.queue());
        }
      }
    }
    notifyQueues(t, ready);
    return out;
  }

  /** Inserts plain messages and notifies the queues where a claim waits, in one statement. */
  private void insertPlainNotifyingWaiters(Pg.Tx t, List<NewMessage> batch) throws SQLException {
    int n = batch.size();
    if (n == 1) {
      NewMessage m = batch.get(0);
      PreparedStatement ps = t.prepare(ENQUEUE_ONE);
      ps.setString(1, m.id());
      ps.setString(2, m.queue());
      ps.setShort(3, (short) m.priority());
      setLong(ps, 4, m.notBefore() == null ? null : m.notBefore().toEpochMilli());
      ps.setBytes(5, m.body());
      ps.setString(6, messagesChannel);
      ps.setBoolean(7, pg.testClock());
      ps.executeQuery().close();
      return;
    }
    PreparedStatement ps = t.prepare(ENQUEUE_PLAIN);
    setPlainArrays(t, ps, batch);
    ps.setString(6, messagesChannel);
    // A test clock moves at will, past any registration: there every ready queue is notified.
    ps.setBoolean(7, pg.testClock());
    ps.executeQuery().close();
  }

  /** Parameters 1 to 5 of a batch insert: ids, queues, priorities, due times, bodies. */
  private static void setPlainArrays(Pg.Tx t, PreparedStatement ps, List<NewMessage> batch)
      throws SQLException {
    int n = batch.size();
    String[] ids = new String[n];
    String[] queues = new String[n];
    Short[] priorities = new Short[n];
    Long[] at = new Long[n];
    byte[][] bodies = new byte[n][];
    for (int i = 0; i < n; i++) {
      NewMessage m = batch.get(i);
      ids[i] = m.id();
      queues[i] = m.queue();
      priorities[i] = (short) m.priority();
      at[i] = m.notBefore() == null ? null : m.notBefore().toEpochMilli();
      bodies[i] = m.body();
    }
    var c = t.connection();
    ps.setArray(1, c.createArrayOf("text", ids));
    ps.setArray(2, c.createArrayOf("text", queues));
    ps.setArray(3, c.createArrayOf("int2", priorities));
    ps.setArray(4, c.createArrayOf("int8", at));
    ps.setArray(5, c.createArrayOf("bytea", bodies));
  }

  private void insertPlain(Pg.Tx t, List<NewMessage> batch) throws SQLException {
    int n = batch.size();
    if (n == 1) {
      NewMessage m = batch.get(0);
      Long at = m.notBefore() == null ? null : m.notBefore().toEpochMilli();
      PreparedStatement ps = t.prepare(INSERT_PLAIN_ONE);
      ps.setString(1, m.id());
      ps.setString(2, m.queue());
      ps.setShort(3, (short) m.priority());
      setLong(ps, 4, at);
      setLong(ps, 5, at);
      ps.setBytes(6, m.body());
      ps.setString(7, messagesChannel);
      ps.executeQuery().close();
      return;
    }
    PreparedStatement ps = t.prepare(INSERT_PLAIN);
    setPlainArrays(t, ps, batch);
    ps.setString(6, messagesChannel);
    ps.executeQuery().close();
  }

  /**
   * Enqueues one message with keys, or returns the id of the message holding its idempotency or
   * unique key. With {@code followUp}, a message whose id is stored already is left as it is (a
   * settlement's follow-up applied twice) and reported as held by itself.
   */
  private String enqueueKeyed(Pg.Tx t, NewMessage m, boolean followUp) throws SQLException {
    if (m.idempotencyKey() != null) {
      if (followUp && exists(t, m.id())) {
        return m.id(); // the stored message wins before its key is looked at
      }
      String holder = takeIdempotencyKey(t, m);
      if (holder != null) {
        return holder;
      }
    }
    PreparedStatement ps = t.prepare(INSERT_ONE);
    ps.setString(1, m.id());
    ps.setString(2, m.queue());
    ps.setShort(3, (short) m.priority());
    setLong(ps, 4, m.notBefore() == null ? null : m.notBefore().toEpochMilli());
    ps.setBoolean(5, m.limit() == null); // a limited message waits by its key, never "delayed"
    setLong(ps, 6, m.notBefore() == null ? null : m.notBefore().toEpochMilli());
    ps.setBoolean(7, m.limit() != null);
    ps.setBytes(8, m.body());
    ps.setString(9, m.limit() == null ? null : m.limit().key());
    ps.setString(10, m.uniqueKey());
    boolean inserted;
    try (ResultSet rs = ps.executeQuery()) {
      inserted = rs.next();
    }
    if (!inserted) {
      if (m.uniqueKey() != null) {
        String holder = uniqueHolder(t, m);
        if (holder != null) {
          undoIdempotencyKey(t, m);
          return holder;
        }
      }
      if (followUp || exists(t, m.id())) {
        undoIdempotencyKey(t, m);
        return m.id(); // an id stored already: no second copy
      }
      throw new SQLException("message " + m.id() + " was neither stored nor found");
    }
    if (m.limit() != null) {
      PgLimits.held(t, m.queue(), m.limit(), t.now());
    }
    return null;
  }

  /**
   * Takes {@code m}'s idempotency key for it unless a live one holds it.
   *
   * @return the holder's id, or null when {@code m} now holds the key
   */
  private static String takeIdempotencyKey(Pg.Tx t, NewMessage m) throws SQLException {
    PreparedStatement take =
        t.prepare(
            """
            INSERT INTO {s}.idempotency_keys AS k (key, id, expires_at) VALUES (?, ?, {now} + ?)
            ON CONFLICT (key) DO UPDATE SET id = excluded.id, expires_at = excluded.expires_at
            WHERE k.expires_at <= {now}
            RETURNING id""");
    take.setString(1, m.idempotencyKey());
    take.setString(2, m.id());
    take.setLong(3, m.idempotencyWindow().toMillis());
    try (ResultSet rs = take.executeQuery()) {
      if (rs.next()) {
        return null;
      }
    }
    PreparedStatement holder = t.prepare("SELECT id FROM {s}.idempotency_keys WHERE key = ?");
    holder.setString(1, m.idempotencyKey());
    try (ResultSet rs = holder.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Gives back a key taken for a message that was not stored after all. */
  private static void undoIdempotencyKey(Pg.Tx t, NewMessage m) throws SQLException {
    if (m.idempotencyKey() == null) {
      return;
    }
    PreparedStatement ps = t.prepare("DELETE FROM {s}.idempotency_keys WHERE key = ? AND id = ?");
    ps.setString(1, m.idempotencyKey());
    ps.setString(2, m.id());
    ps.executeUpdate();
  }

  private static String uniqueHolder(Pg.Tx t, NewMessage m) throws SQLException {
    PreparedStatement ps =
        t.prepare("SELECT id FROM {s}.messages WHERE queue = ? AND unique_key = ?");
    ps.setString(1, m.queue());
    ps.setString(2, m.uniqueKey());
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private static boolean exists(Pg.Tx t, String id) throws SQLException {
    PreparedStatement ps = t.prepare("SELECT 1 FROM {s}.messages WHERE id = ?");
    ps.setString(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /**
   * Enqueues, inside the caller's transaction, those of {@code messages} whose id is not stored as
   * a message yet and whose idempotency and unique keys (if any) are not held (a settlement's
   * follow-ups); the queues are notified on commit.
   *
   * @return how many were enqueued
   */
  public int enqueueNew(Pg.Tx t, List<NewMessage> messages) throws SQLException {
    int added = 0;
    Set<String> ready = new LinkedHashSet<>();
    for (NewMessage m : messages) {
      if (enqueueKeyed(t, m, true) == null) {
        added++;
        if (m.notBefore() == null || m.limit() != null) {
          ready.add(m.queue());
        }
      }
    }
    notifyQueues(t, ready);
    return added;
  }

  private void notifyQueues(Pg.Tx t, Collection<String> queues) throws SQLException {
    if (queues.isEmpty()) {
      return;
    }
    PreparedStatement ps = t.prepare("SELECT pg_notify(?, q) FROM unnest(?::text[]) q");
    ps.setString(1, messagesChannel);
    ps.setArray(2, t.connection().createArrayOf("text", queues.toArray(new String[0])));
    ps.executeQuery().close();
  }

  private static void setLong(PreparedStatement ps, int i, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(i, java.sql.Types.BIGINT);
    } else {
      ps.setLong(i, value);
    }
  }

  // ---- claim ----

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
      listen();
    }
    long deadline = System.nanoTime() + wait.toNanos();
    long wakeupsAtStart;
    waitLock.lock();
    try {
      wakeupsAtStart = wakeups;
    } finally {
      waitLock.unlock();
    }
    while (true) {
      long seen;
      waitLock.lock();
      try {
        seen = stamp(queues);
      } finally {
        waitLock.unlock();
      }
      List<Delivery> taken = take(queues, max, lease);
      long remaining = deadline - System.nanoTime();
      if (!taken.isEmpty() || remaining <= 0) {
        return taken;
      }
      Boolean registered = registerWaiting(queues);
      if (Boolean.TRUE.equals(registered)) {
        continue; // registered just now: what was enqueued meanwhile was not notified, look again
      }
      long nextDue = nextDueMillis(queues);
      if (registered == null) {
        nextDue = Math.min(nextDue, UNREGISTERED_WAIT_MS); // no promise of a notification
      }
      long sleep =
          Math.min(
              remaining,
              TimeUnit.MILLISECONDS.toNanos(
                  Math.max(1, Math.min(nextDue, MAX_IDLE_WAIT.toMillis()))));
      waitLock.lockInterruptibly();
      try {
        long left = sleep;
        // Woken for other queues: sleep on rather than ask the database again.
        while (wakeups == wakeupsAtStart && stamp(queues) == seen && left > 0) {
          left = changed.awaitNanos(left);
        }
        if (wakeups != wakeupsAtStart) {
          return List.of(); // wakeup(): the caller wants to look at its state
        }
      } finally {
        waitLock.unlock();
      }
    }
  }

  /**
   * Registers this process's claim on {@code queues} as waiting, so plain enqueues notify them,
   * unless its registration has long enough to live.
   *
   * @return true if registered just now, false if the registration stands, null if it failed (the
   *     claim then sleeps briefly and tries again)
   */
  private Boolean registerWaiting(List<String> queues) {
    if (pg.testClock()) {
      return false; // every ready queue is notified: see insertPlainNotifyingWaiters
    }
    long now = System.nanoTime();
    List<String> due = new ArrayList<>(queues.size());
    synchronized (registeredUntil) {
      for (String q : queues) {
        Long until = registeredUntil.get(q);
        if (until == null || until - now < TimeUnit.MILLISECONDS.toNanos(WAITER_RENEW_MS)) {
          due.add(q);
        }
      }
    }
    if (due.isEmpty()) {
      return false;
    }
    try {
      pg.read(
          "register a waiting claim",
          t -> {
            PreparedStatement ps = t.prepare(REGISTER_WAITER);
            ps.setArray(1, t.connection().createArrayOf("text", due.toArray(new String[0])));
            ps.setLong(2, WAITER_TTL_MS);
            ps.executeQuery().close();
            return null;
          });
    } catch (RuntimeException e) {
      log.debug("could not register a waiting claim on {}: {}", due, e.toString());
      return null;
    }
    // Counted on this host's monotonic clock from before the statement, so the local view never
    // outlives the stored one (the database's clock may be set apart from this host's).
    synchronized (registeredUntil) {
      for (String q : due) {
        registeredUntil.put(q, now + TimeUnit.MILLISECONDS.toNanos(WAITER_TTL_MS));
      }
    }
    return true;
  }

  private void listen() {
    if (!listening) {
      synchronized (this) {
        if (!listening) {
          notifier.listen(
              PgNotifier.MESSAGES, queue -> changed(queue == null ? null : Set.of(queue)));
          listening = true;
        }
      }
    }
  }

  /** How long until something of {@code queues} may come due, in ms; long max when nothing will. */
  private long nextDueMillis(List<String> queues) {
    return pg.read(
        "look for due messages",
        t -> {
          PreparedStatement ps = t.prepare(NEXT_DUE);
          Array names = t.connection().createArrayOf("text", queues.toArray(new String[0]));
          ps.setArray(1, names);
          ps.setArray(2, names);
          ps.setArray(3, names);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            long due = rs.getLong(1);
            return rs.wasNull() ? Long.MAX_VALUE : Math.max(0, due);
          }
        });
  }

  private List<Delivery> take(List<String> queues, int max, Duration lease) {
    byte[] token = new byte[8];
    RANDOM.nextBytes(token);
    String prefix = HexFormat.of().formatHex(token) + ":";
    List<Delivery> out = new ArrayList<>();
    for (String queue : queues) {
      int want = max - out.size();
      if (want <= 0) {
        break;
      }
      Fast fast = pg.read("claim", t -> claimFast(t, queue, want, lease, prefix));
      out.addAll(fast.taken());
      if (fast.paused() || !(fast.keys() || fast.due())) {
        continue;
      }
      if (fast.keys()) {
        // Held messages whose key is due first (see MemoryBroker): they waited for their turn.
        List<Delivery> fromKeys =
            pg.tx(
                "claim limited",
                t -> {
                  List<Delivery> got = new ArrayList<>();
                  long now = t.now();
                  PgLimits.take(t, queue, want, now, prefix, now + lease.toMillis(), got);
                  return got;
                });
        out.addAll(fromKeys);
      }
      int n = max - out.size();
      if (n <= 0) {
        break;
      }
      if (fast.due()) {
        pg.read(
            "move due messages",
            t -> {
              PreparedStatement ps = t.prepare(PROMOTE);
              ps.setString(1, queue);
              return ps.executeUpdate();
            });
      }
      out.addAll(pg.read("claim", t -> claimReady(t, queue, n, lease, prefix)));
    }
    return out;
  }

  /** What the one-statement claim leased, and what it left to do. */
  private record Fast(List<Delivery> taken, boolean paused, boolean keys, boolean due) {}

  private static Fast claimFast(Pg.Tx t, String queue, int want, Duration lease, String prefix)
      throws SQLException {
    PreparedStatement ps = t.prepare(CLAIM_FAST);
    ps.setString(1, queue);
    ps.setString(2, queue);
    ps.setString(3, queue);
    ps.setString(4, queue);
    ps.setInt(5, want);
    ps.setString(6, queue);
    ps.setInt(7, want);
    ps.setInt(8, want);
    ps.setString(9, prefix);
    ps.setLong(10, lease.toMillis());
    List<Object[]> rows = new ArrayList<>(want);
    boolean paused = false;
    boolean keys = false;
    boolean due = false;
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        paused = rs.getBoolean(9);
        keys = rs.getBoolean(10);
        due = rs.getBoolean(11);
        if (rs.getString(1) != null) {
          rows.add(row(rs));
        }
      }
    }
    return new Fast(deliveries(queue, rows), paused, keys, due);
  }

  private static Object[] row(ResultSet rs) throws SQLException {
    return new Object[] {
      rs.getString(1),
      rs.getInt(2),
      rs.getLong(3),
      rs.getLong(4),
      rs.getBytes(5),
      rs.getInt(6),
      rs.getString(7),
      rs.getLong(8)
    };
  }

  /** The leased rows as deliveries in the queue's order (RETURNING does not promise one). */
  private static List<Delivery> deliveries(String queue, List<Object[]> rows) {
    rows.sort(
        Comparator.<Object[]>comparingInt(r -> -(Integer) r[1])
            .thenComparingLong(r -> (Long) r[2])
            .thenComparingLong(r -> (Long) r[3]));
    List<Delivery> out = new ArrayList<>(rows.size());
    for (Object[] r : rows) {
      out.add(
          new Delivery(
              (String) r[0],
              queue,
              (Integer) r[1],
              (byte[]) r[4],
              (Integer) r[5],
              (String) r[6],
              Instant.ofEpochMilli((Long) r[7])));
    }
    return out;
  }

  private static List<Delivery> claimReady(
      Pg.Tx t, String queue, int want, Duration lease, String prefix) throws SQLException {
    PreparedStatement ps = t.prepare(CLAIM);
    ps.setString(1, queue);
    ps.setInt(2, want);
    ps.setString(3, queue);
    ps.setInt(4, want);
    ps.setInt(5, want);
    ps.setString(6, prefix);
    ps.setLong(7, lease.toMillis());
    List<Object[]> rows = new ArrayList<>(want);
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.add(row(rs));
      }
    }
    return deliveries(queue, rows);
  }

  // ---- ending a delivery ----

  @Override
  public boolean ack(Delivery delivery) {
    return pg.tx("ack", t -> ack(t, delivery));
  }

  /** Whether {@code delivery}'s receipt is current, inside the caller's transaction. */
  public boolean holds(Pg.Tx t, Delivery delivery) throws SQLException {
    PreparedStatement ps =
        t.prepare("SELECT 1 FROM {s}.messages WHERE id = ? AND receipt = ? FOR UPDATE");
    ps.setString(1, delivery.id());
    ps.setString(2, delivery.receipt());
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /** Acks inside the caller's transaction. */
  public boolean ack(Pg.Tx t, Delivery delivery) throws SQLException {
    PreparedStatement ps =
        t.prepare("DELETE FROM {s}.messages WHERE id = ? AND receipt = ? RETURNING limit_key");
    ps.setString(1, delivery.id());
    ps.setString(2, delivery.receipt());
    return changedLease(t, ps, delivery, false, false);
  }

  @Override
  public Set<String> renew(Collection<Delivery> deliveries, Duration lease) {
    if (deliveries.isEmpty()) {
      return Set.of();
    }
    String[] ids = new String[deliveries.size()];
    String[] receipts = new String[deliveries.size()];
    int i = 0;
    for (Delivery d : deliveries) {
      ids[i] = d.id();
      receipts[i++] = d.receipt();
    }
    return pg.read(
        "renew",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  """
                  UPDATE {s}.messages m SET lease_until = {now} + ?
                  FROM unnest(?::text[], ?::text[]) AS d (id, receipt)
                  WHERE m.id = d.id AND m.receipt = d.receipt
                  RETURNING m.id""");
          ps.setLong(1, lease.toMillis());
          ps.setArray(2, t.connection().createArrayOf("text", ids));
          ps.setArray(3, t.connection().createArrayOf("text", receipts));
          Set<String> lost = new HashSet<>(List.of(ids));
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              lost.remove(rs.getString(1));
            }
          }
          return lost;
        });
  }

  @Override
  public boolean release(Delivery delivery) {
    boolean released = pg.tx("release", t -> release(t, delivery));
    if (released) {
      changed(Set.of(delivery.queue()));
    }
    return released;
  }

  /** Hands a delivery back inside the caller's transaction; other processes are notified. */
  public boolean release(Pg.Tx t, Delivery delivery) throws SQLException {
    PreparedStatement ps =
        t.prepare(
            "UPDATE {s}.messages SET receipt = NULL, lease_until = NULL,"
                + " deliveries = GREATEST(deliveries - 1, 0), held = (limit_key IS NOT NULL)"
                + " WHERE id = ? AND receipt = ? RETURNING limit_key");
    ps.setString(1, delivery.id());
    ps.setString(2, delivery.receipt());
    boolean done = changedLease(t, ps, delivery, true, true);
    if (done) {
      notifyQueues(t, List.of(delivery.queue()));
    }
    return done;
  }

  /**
   * Runs {@code ps}, a delete or update of one leased message returning its limit key, and tells
   * its key the message holds no place in its concurrency any more.
   */
  private static boolean changedLease(
      Pg.Tx t, PreparedStatement ps, Delivery delivery, boolean heldAgain, boolean refund)
      throws SQLException {
    String limitKey;
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return false;
      }
      limitKey = rs.getString(1);
    }
    if (limitKey != null) {
      PgLimits.freed(t, delivery.queue(), limitKey, t.now(), heldAgain, refund);
    }
    return true;
  }

  @Override
  public boolean retry(Delivery delivery, byte[] body, Instant notBefore) {
    boolean done = pg.tx("retry", t -> retry(t, delivery, body, notBefore));
    if (done) {
      changed(Set.of(delivery.queue()));
    }
    return done;
  }

  /** Replaces a delivery's body and delays it inside the caller's transaction. */
  public boolean retry(Pg.Tx t, Delivery delivery, byte[] body, Instant notBefore)
      throws SQLException {
    PreparedStatement ps =
        t.prepare(
            "UPDATE {s}.messages SET body = ?, available_at = ?, receipt = NULL,"
                + " lease_until = NULL, deliveries = 0, held = (limit_key IS NOT NULL),"
                + " delayed = (limit_key IS NULL AND ? > {now}),"
                // to the back of its band, as on the other backends: behind what waits already
                + " seq = nextval('{s}.message_seq')"
                + " WHERE id = ? AND receipt = ? RETURNING limit_key");
    ps.setBytes(1, body);
    ps.setLong(2, notBefore.toEpochMilli());
    ps.setLong(3, notBefore.toEpochMilli());
    ps.setString(4, delivery.id());
    ps.setString(5, delivery.receipt());
    boolean done = changedLease(t, ps, delivery, true, false);
    if (done) {
      notifyQueues(t, List.of(delivery.queue()));
    }
    return done;
  }

  // ---- waking ----

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

  /** Wakes this process's waiting claims: something may be ready. */
  public void changed() {
    changed(null);
  }

  /** Wakes this process's waiting claims of {@code queues} (null: of any queue). */
  void changed(Set<String> queues) {
    waitLock.lock();
    try {
      if (queues == null) {
        generation++;
      } else {
        for (String q : queues) {
          queueChanges.merge(q, 1L, Long::sum);
        }
      }
      changed.signalAll();
    } finally {
      waitLock.unlock();
    }
  }

  /** The changes seen so far that concern {@code queues}; grows when any of them changes. */
  private long stamp(List<String> queues) {
    long s = generation;
    for (String q : queues) {
      Long n = queueChanges.get(q);
      if (n != null) {
        s += n;
      }
    }
    return s;
  }

  // ---- looking and managing ----

  @Override
  public List<String> queues() {
    return pg.read(
        "queues",
        t -> {
          List<String> names = new ArrayList<>();
          // The distinct queues by skipping through the index, one probe per queue, rather than
          // reading every message.
          try (ResultSet rs =
              t.prepare(
                      """
                      WITH RECURSIVE q AS (
                        (SELECT queue FROM {s}.messages ORDER BY queue LIMIT 1)
                        UNION ALL
                        SELECT (SELECT queue FROM {s}.messages m WHERE m.queue > q.queue
                                ORDER BY queue LIMIT 1)
                        FROM q WHERE q.queue IS NOT NULL)
                      SELECT queue FROM q WHERE queue IS NOT NULL
                      UNION SELECT queue FROM {s}.paused_queues ORDER BY 1""")
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
    return pg.read(
        "stats",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  """
                  SELECT kind, priority, count(*), min(available_at),
                    EXISTS (SELECT 1 FROM {s}.paused_queues WHERE queue = ?) FROM (
                    SELECT CASE WHEN held THEN 'limited'
                             WHEN receipt IS NOT NULL AND lease_until > {now} THEN 'leased'
                             WHEN available_at > {now} THEN 'delayed' ELSE 'ready' END AS kind,
                      priority, available_at
                    FROM {s}.messages WHERE queue = ?) x
                  GROUP BY kind, priority""");
          ps.setString(1, queue);
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
          boolean paused = isPaused(t, queue);
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

  private static boolean isPaused(Pg.Tx t, String queue) throws SQLException {
    PreparedStatement ps = t.prepare("SELECT 1 FROM {s}.paused_queues WHERE queue = ?");
    ps.setString(1, queue);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  @Override
  public void pause(String queue) {
    TaskOptions.validQueue(queue);
    pg.read(
        "pause",
        t -> {
          PreparedStatement ps =
              t.prepare("INSERT INTO {s}.paused_queues (queue) VALUES (?) ON CONFLICT DO NOTHING");
          ps.setString(1, queue);
          return ps.executeUpdate();
        });
  }

  @Override
  public void resume(String queue) {
    TaskOptions.validQueue(queue);
    boolean resumed =
        pg.tx(
            "resume",
            t -> {
              PreparedStatement ps = t.prepare("DELETE FROM {s}.paused_queues WHERE queue = ?");
              ps.setString(1, queue);
              boolean was = ps.executeUpdate() > 0;
              if (was) {
                notifyQueues(t, List.of(queue));
              }
              return was;
            });
    if (resumed) {
      changed(Set.of(queue));
    }
  }

  @Override
  public List<String> pausedQueues() {
    return pg.read(
        "paused queues",
        t -> {
          List<String> names = new ArrayList<>();
          try (ResultSet rs =
              t.prepare("SELECT queue FROM {s}.paused_queues ORDER BY queue").executeQuery()) {
            while (rs.next()) {
              names.add(rs.getString(1));
            }
          }
          return names;
        });
  }

  @Override
  public List<LimitStats> limits(String queue, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0 but was " + max);
    }
    return pg.read("limits", t -> PgLimits.stats(t, queue, max, t.now()));
  }

  @Override
  public long purge(String queue) {
    return pg.tx(
        "purge",
        t -> {
          PreparedStatement ps =
              t.prepare(
                  "DELETE FROM {s}.messages WHERE queue = ?"
                      + " AND (receipt IS NULL OR lease_until <= {now})"
                      + " RETURNING limit_key, held");
          ps.setString(1, queue);
          long deleted = 0;
          Map<String, long[]> byKey = new HashMap<>(); // key -> {leased, held}
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              deleted++;
              String key = rs.getString(1);
              if (key != null) {
                byKey.computeIfAbsent(key, k -> new long[2])[rs.getBoolean(2) ? 1 : 0]++;
              }
            }
          }
          long now = t.now();
          for (Map.Entry<String, long[]> e : byKey.entrySet()) {
            PgLimits.purged(t, queue, e.getKey(), e.getValue()[0], e.getValue()[1], now);
          }
          return deleted;
        });
  }
}
