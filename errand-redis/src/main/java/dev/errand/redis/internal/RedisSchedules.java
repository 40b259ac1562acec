package dev.errand.redis.internal;

import static dev.errand.redis.internal.RedisBroker.bytes;
import static dev.errand.redis.internal.RedisBroker.num;
import static dev.errand.redis.internal.RedisBroker.number;
import static dev.errand.redis.internal.RedisBroker.text;

import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Schedules and leader leases on Redis, all under the {@code {schedules}} hash tag. Bodies and
 * versions are two hashes written together by scripts, so compare-and-set is atomic and versions
 * come from one counter that a delete leaves alone (a stale write based on a deleted schedule never
 * matches its re-created namesake). Writes announce the new change count on a channel, which {@link
 * #awaitChange} listens to instead of polling. Leases expire by the backend's clock, like every
 * other expiry of this backend: Redis's own in server time (see {@link RedisClock}). Thread-safe.
 */
public final class RedisSchedules implements ScheduleStore {

  // Pub/sub is best-effort (a message sent while reconnecting is lost): a waiter re-reads the
  // counter at least this often.
  private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
  // Keeps deadline arithmetic on System.nanoTime() clear of overflow; over 70 years.
  private static final long MAX_WAIT_NANOS = Long.MAX_VALUE / 4;
  private static final long MAX_LEASE_MILLIS = 1L << 50;

  private final Redis redis;
  private final Keys keys;
  private final RedisClock clock;
  private final Notifier notifier;
  private final String[] writeKeys;
  private final String[] leaseKeys;
  private final Object lock = new Object();
  // Separate from `lock`: subscribing waits for Lettuce's event loop, whose handler takes `lock`.
  private final Object listenLock = new Object();
  private long signals;
  private volatile boolean listening;

  public RedisSchedules(Redis redis, Keys keys, RedisClock clock, Notifier notifier) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.notifier = notifier;
    this.writeKeys =
        new String[] {
          keys.scheduleBodies(), keys.scheduleVersions(), keys.scheduleSeq(), keys.scheduleChanges()
        };
    this.leaseKeys = new String[] {keys.scheduleLeases()};
    notifier.onDisconnect(this::signal);
  }

  @Override
  public List<StoredSchedule> list() {
    List<StoredSchedule> all = read(null);
    all.sort(Comparator.comparing(StoredSchedule::name));
    return all;
  }

  @Override
  public Optional<StoredSchedule> get(String name) {
    return read(Objects.requireNonNull(name, "name")).stream().findFirst();
  }

  @Override
  public OptionalLong put(String name, String body, long expectedVersion) {
    requireName(name);
    Objects.requireNonNull(body, "body");
    long version =
        call(
            Script.SCHEDULE_PUT,
            "write schedule [" + name + "]",
            writeKeys,
            bytes(name),
            bytes(body),
            num(expectedVersion),
            bytes(keys.scheduleChannel()));
    if (version == 0) {
      return OptionalLong.empty();
    }
    signal(); // local waiters need not wait for the round trip through pub/sub
    return OptionalLong.of(version);
  }

  @Override
  public boolean delete(String name, long expectedVersion) {
    Objects.requireNonNull(name, "name");
    long deleted =
        call(
            Script.SCHEDULE_DELETE,
            "delete schedule [" + name + "]",
            writeKeys,
            bytes(name),
            num(expectedVersion),
            bytes(keys.scheduleChannel()));
    if (deleted == 0) {
      return false;
    }
    signal();
    return true;
  }

  @Override
  public long changes() {
    return readChanges(
        redis.await(redis.async().get(keys.scheduleChanges()), "read schedule changes"));
  }

  @Override
  public long awaitChange(long seen, Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    if (Thread.interrupted()) {
      throw new InterruptedException(); // not the BackendException an interrupted subscribe gives
    }
    long deadline = System.nanoTime() + nanos(timeout);
    listen(); // before the first read, so a write right after it is heard
    while (true) {
      long heard;
      synchronized (lock) {
        heard = signals;
      }
      long current =
          readChanges(
              redis.awaitInterruptibly(
                  redis.async().get(keys.scheduleChanges()), "read schedule changes"));
      long left = deadline - System.nanoTime();
      if (current != seen || left <= 0) {
        return current;
      }
      synchronized (lock) {
        if (signals == heard) {
          TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, RECHECK_NANOS));
        }
      }
    }
  }

  @Override
  public boolean lead(String group, String candidate, Duration ttl) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(candidate, "candidate");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be > 0 but was " + ttl);
    }
    String what = "take the leader lease of [" + group + "]";
    byte[][] args = {bytes(group), bytes(candidate), clock.scriptNow(), num(leaseMillis(ttl))};
    return call(Script.SCHEDULE_LEAD, what, leaseKeys, args) == 1;
  }

  @Override
  public void resign(String group, String candidate) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(candidate, "candidate");
    String what = "resign the leader lease of [" + group + "]";
    call(Script.SCHEDULE_RESIGN, what, leaseKeys, bytes(group), bytes(candidate));
  }

  @Override
  public Optional<Lease> leader(String group) {
    Objects.requireNonNull(group, "group");
    byte[] held =
        redis.await(
            redis.async().hget(keys.scheduleLeases(), group), "read the leader of [" + group + "]");
    if (held == null || Codec.expiresAt(held) <= clock.millis()) {
      return Optional.empty();
    }
    return Optional.of(
        new Lease(text(Codec.payload(held)), Instant.ofEpochMilli(Codec.expiresAt(held))));
  }

  private List<StoredSchedule> read(String name) {
    String[] k = {keys.scheduleBodies(), keys.scheduleVersions()};
    byte[][] args = name == null ? new byte[0][] : new byte[][] {bytes(name)};
    List<Object> r =
        redis.await(
            Script.SCHEDULE_READ.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, k, args),
            name == null ? "list schedules" : "read schedule [" + name + "]");
    List<StoredSchedule> out = new ArrayList<>(r.size() / 3);
    for (int i = 0; i + 2 < r.size(); i += 3) {
      if (r.get(i + 2) != null) {
        out.add(new StoredSchedule(text(r.get(i)), text(r.get(i + 2)), number(r.get(i + 1))));
      }
    }
    return out;
  }

  private long call(Script script, String what, String[] k, byte[]... args) {
    return redis.<Long>await(script.run(redis.async(), ScriptOutputType.INTEGER, k, args), what);
  }

  private void listen() {
    if (listening) {
      return;
    }
    synchronized (listenLock) {
      if (!listening) {
        // On Lettuce's event loop: only signal, the waiter reads the counter itself.
        notifier.listen(keys.scheduleChannel(), message -> signal());
        listening = true;
      }
    }
  }

  private void signal() {
    synchronized (lock) {
      signals++;
      lock.notifyAll();
    }
  }

  private static long readChanges(byte[] value) {
    return value == null ? 0 : number(value);
  }

  /**
   * {@code ttl} in ms, at least 1, at most 2^50 (35,000 years: forever), so the script's {@code now
   * + ttl} stays exact in Lua's doubles.
   */
  private static long leaseMillis(Duration ttl) {
    try {
      return Math.min(Math.max(1, ttl.toMillis()), MAX_LEASE_MILLIS);
    } catch (ArithmeticException overflow) {
      return MAX_LEASE_MILLIS;
    }
  }

  private static long nanos(Duration timeout) {
    try {
      return Math.min(Math.max(timeout.toNanos(), 0), MAX_WAIT_NANOS);
    } catch (ArithmeticException overflow) {
      return timeout.isNegative() ? 0 : MAX_WAIT_NANOS;
    }
  }

  private static void requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("schedule name must not be blank");
    }
  }
}
