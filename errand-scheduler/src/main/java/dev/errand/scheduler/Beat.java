package dev.errand.scheduler;

import dev.errand.Client;
import dev.errand.scheduler.internal.BeatLoop;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler ("beat"): sends each stored schedule's task when it is due. Run one in as many
 * processes as you like (in {@code errand beat}, {@code errand worker --beat} or your own app):
 * they elect one leader through the backend and the others stand by, taking over within {@link
 * Builder#failover} when the leader dies. Even two leaders at once (a paused process that wakes up)
 * never send one tick twice: each tick is enqueued with the idempotency key {@code
 * beat:<schedule>@<tick>}.
 *
 * <pre>{@code
 * Beat beat = Beat.builder(client)
 *     .schedule(Schedule.builder("nightly-report").task("reports.nightly").cron("0 2 * * *").build())
 *     .build();
 * beat.start();
 * }</pre>
 *
 * <p>The leader sleeps until the next due tick and wakes at once when any process edits a schedule.
 * Thread-safe; one thread per started scheduler.
 */
public final class Beat implements AutoCloseable {

  /** How long a dead leader goes unreplaced at most, by default: 10 seconds. */
  public static final Duration DEFAULT_FAILOVER = Duration.ofSeconds(10);

  /** How late a tick may fire and still count as on time, by default: 1 second. */
  public static final Duration DEFAULT_MISFIRE_GRACE = Duration.ofSeconds(1);

  /** The group schedulers lead by default: {@value}. One leader per group per backend. */
  public static final String DEFAULT_GROUP = "beat";

  private static final Duration STOP_WAIT = Duration.ofSeconds(10);

  private final String name;
  private final Schedules schedules;
  private final List<Schedule> defined;
  private final BeatLoop loop;
  private final Thread thread;
  private boolean started; // guarded by this
  private boolean closed; // guarded by this

  private Beat(Builder b) {
    this.name = b.name != null ? b.name : defaultName();
    this.schedules = Schedules.create(b.client, b.clock);
    this.defined = List.copyOf(b.schedules.values());
    this.loop =
        new BeatLoop(
            b.client.backend().schedules(),
            b.client,
            b.clock,
            b.client.backend().clock(),
            b.group,
            name,
            b.failover,
            b.misfireGrace);
    this.thread = new Thread(loop, "errand-beat");
    thread.setDaemon(true);
  }

  /** A builder for a scheduler that sends through {@code client}. */
  public static Builder builder(Client client) {
    return new Builder(client);
  }

  /**
   * Stores the schedules defined in code (see {@link Builder#schedule}) and starts the scheduler
   * thread, which stands by or leads.
   *
   * @throws IllegalStateException if started before or closed
   */
  public synchronized Beat start() {
    if (started || closed) {
      throw new IllegalStateException("scheduler " + name + " was already started");
    }
    for (Schedule s : defined) {
      schedules.deploy(s);
    }
    started = true;
    thread.start();
    return this;
  }

  /** This scheduler's name, unique among the processes of its group. */
  public String name() {
    return name;
  }

  /** Whether this scheduler leads its group (sends the tasks) at the moment. */
  public boolean isLeader() {
    return loop.leading();
  }

  /** The stored schedules, to read and change. */
  public Schedules schedules() {
    return schedules;
  }

  /**
   * Stops the scheduler and hands the lead over at once (a standby takes it at its next look).
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    loop.stop();
    thread.interrupt();
    try {
      thread.join(STOP_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits for the thread to end after {@link #close()}, up to {@code timeout}. */
  boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    thread.join(unit.toMillis(timeout));
    return !thread.isAlive();
  }

  private static String defaultName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = System.getenv().getOrDefault("HOSTNAME", "localhost");
    }
    return "beat@"
        + host
        + ":"
        + ProcessHandle.current().pid()
        + ":"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Builds a {@link Beat}. Not thread-safe. */
  public static final class Builder {
    private final Client client;
    private final Map<String, Schedule> schedules = new LinkedHashMap<>();
    private Duration failover = DEFAULT_FAILOVER;
    private Duration misfireGrace = DEFAULT_MISFIRE_GRACE;
    private String group = DEFAULT_GROUP;
    private String name;
    private Clock clock;

    private Builder(Client client) {
      this.client = Objects.requireNonNull(client, "client");
      this.clock = client.backend().clock();
    }

    /**
     * A schedule defined in code, stored when the scheduler starts: added if new, replaced if this
     * definition differs from the one last deployed, otherwise left as it is (so a pause made at
     * runtime survives a restart with the same code).
     *
     * @throws IllegalArgumentException if a schedule of that name was given already
     */
    public Builder schedule(Schedule schedule) {
      Objects.requireNonNull(schedule, "schedule");
      if (schedules.putIfAbsent(schedule.name(), schedule) != null) {
        throw new IllegalArgumentException("schedule '" + schedule.name() + "' was given twice");
      }
      return this;
    }

    /** {@link #schedule} for each. */
    public Builder schedules(List<Schedule> schedules) {
      for (Schedule s : new ArrayList<>(schedules)) {
        schedule(s);
      }
      return this;
    }

    /**
     * The longest a dead leader goes unreplaced, at least 1 s; default 10 s. The lease lasts eight
     * tenths of it and the leader renews it every third of that; standbys look every tenth, so a
     * dead leader is replaced within nine tenths plus a round trip.
     */
    public Builder failover(Duration failover) {
      Objects.requireNonNull(failover, "failover");
      if (failover.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("failover must be at least 1s but was " + failover);
      }
      this.failover = failover;
      return this;
    }

    /** How late a tick may be found and still fire as on time, {@code >= 0}; default 1 s. */
    public Builder misfireGrace(Duration grace) {
      Objects.requireNonNull(grace, "misfireGrace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("misfireGrace must be >= 0 but was " + grace);
      }
      this.misfireGrace = grace;
      return this;
    }

    /** The group whose lead this scheduler competes for; default {@value #DEFAULT_GROUP}. */
    public Builder group(String group) {
      Objects.requireNonNull(group, "group");
      if (group.isBlank()) {
        throw new IllegalArgumentException("group must not be blank");
      }
      this.group = group;
      return this;
    }

    /** This scheduler's name; default {@code beat@host:pid:random}. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank");
      }
      this.name = name;
      return this;
    }

    /**
     * The clock for ticks; default the backend's ({@link dev.errand.spi.Backend#clock()}). Whether
     * the leader lease is still valid is always judged by the backend's clock, which decides it.
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Builds the scheduler; {@link Beat#start()} starts it. */
    public Beat build() {
      return new Beat(this);
    }
  }
}
