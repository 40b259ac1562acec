package dev.errand.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.scheduler.internal.Firing;
import dev.errand.scheduler.internal.Planner;
import dev.errand.scheduler.internal.ScheduleCodec;
import dev.errand.scheduler.internal.ScheduleCodec.Decoded;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.StoredSchedule;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and changes the schedules stored in a backend, at runtime: what {@code errand schedule} and
 * the dashboard use. A running {@link Beat} sees every change at once (it is woken, no restart
 * needed). Starts no threads. Thread-safe; changes from several processes are safe too (each is a
 * compare-and-set on the stored schedule, retried on conflict).
 *
 * <pre>{@code
 * Schedules schedules = Schedules.create(client);
 * schedules.add(Schedule.builder("every-15-min").task("sync.crm").every(Duration.ofMinutes(15)).build());
 * schedules.pause("every-15-min");
 * }</pre>
 */
public final class Schedules {

  private static final Logger log = LoggerFactory.getLogger(Schedules.class);
  private static final int MAX_ATTEMPTS = 100;

  private final Client client;
  private final ScheduleStore store;
  private final Clock clock;

  private Schedules(Client client, Clock clock) {
    this.client = Objects.requireNonNull(client, "client");
    this.store = client.backend().schedules();
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The schedules of {@code client}'s backend; run-now sends with {@code client}, edits are stamped
   * by the backend's clock.
   */
  public static Schedules create(Client client) {
    return create(client, client.backend().clock());
  }

  /** {@link #create(Client)} with the clock that stamps edits (tests). */
  public static Schedules create(Client client, Clock clock) {
    return new Schedules(client, clock);
  }

  /** Every stored schedule, by name. One that cannot be read is left out, with a warning logged. */
  public List<ScheduleEntry> list() {
    List<ScheduleEntry> out = new ArrayList<>();
    for (StoredSchedule s : store.list()) {
      try {
        out.add(ScheduleCodec.decode(s).entry());
      } catch (IllegalArgumentException e) {
        log.warn("{}", e.getMessage());
      }
    }
    return out;
  }

  /**
   * The schedule named {@code name}, if stored.
   *
   * @throws IllegalArgumentException if it is stored but cannot be read
   */
  public Optional<ScheduleEntry> get(String name) {
    return store.get(name).map(s -> ScheduleCodec.decode(s).entry());
  }

  /**
   * Stores a new schedule; its first tick is the first after now (or after its start).
   *
   * @throws IllegalStateException if a schedule of that name exists
   */
  public ScheduleEntry add(Schedule schedule) {
    Objects.requireNonNull(schedule, "schedule");
    ScheduleState state = created(schedule, true);
    String body = ScheduleCodec.encode(schedule, state, null);
    OptionalLong v = store.put(schedule.name(), body, 0);
    if (v.isEmpty()) {
      throw new IllegalStateException("schedule '" + schedule.name() + "' already exists");
    }
    return new ScheduleEntry(schedule, state, v.getAsLong(), false);
  }

  /**
   * Stores {@code schedule}, replacing the definition of one with that name (its fire history is
   * kept) or adding it.
   */
  public ScheduleEntry put(Schedule schedule) {
    return upsert(schedule, null);
  }

  /**
   * Changes a stored schedule: {@code change} gets a builder holding the current definition.
   * Changing when it fires (trigger, zone or start) counts ticks from now, so no tick before the
   * edit is taken as missed.
   *
   * @throws NoSuchElementException if there is no such schedule
   */
  public ScheduleEntry edit(String name, UnaryOperator<Schedule.Builder> change) {
    Objects.requireNonNull(change, "change");
    return update(name, d -> replaced(d, change.apply(d.entry().schedule().toBuilder()).build()));
  }

  /** Pauses a schedule: no tick fires until it is resumed. */
  public ScheduleEntry pause(String name) {
    return edit(name, b -> b.enabled(false));
  }

  /** Resumes a paused schedule from its next tick; ticks that passed while paused do not fire. */
  public ScheduleEntry resume(String name) {
    return update(
        name,
        d -> {
          Schedule s = d.entry().schedule().toBuilder().enabled(true).build();
          ScheduleState st = d.entry().state();
          if (!d.entry().schedule().enabled()) {
            st = st.withCursorAtLeast(now());
          }
          return withNext(s, st, d.codeHash());
        });
  }

  /**
   * Deletes a schedule. A schedule defined in code comes back when a scheduler with that code
   * starts again; pause it to keep it off.
   *
   * @return false if there was no such schedule
   */
  public boolean delete(String name) {
    return store.delete(Objects.requireNonNull(name, "name"), 0);
  }

  /**
   * Sends the schedule's task now, whether it is paused or not, without changing its ticks or run
   * count.
   *
   * @throws NoSuchElementException if there is no such schedule
   */
  public AsyncResult<JsonNode> runNow(String name) {
    Schedule s =
        get(name)
            .orElseThrow(() -> new NoSuchElementException("no schedule named '" + name + "'"))
            .schedule();
    return Firing.runNow(client, s);
  }

  /**
   * Stores a schedule defined in code: added if new; its definition replaced if the code changed
   * since it was last deployed; otherwise left as it is, so a runtime edit (a pause) survives a
   * restart with the same code.
   */
  ScheduleEntry deploy(Schedule schedule) {
    return upsert(schedule, ScheduleCodec.codeHash(schedule));
  }

  private ScheduleEntry upsert(Schedule schedule, String codeHash) {
    Objects.requireNonNull(schedule, "schedule");
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      Optional<StoredSchedule> stored = store.get(schedule.name());
      if (stored.isEmpty()) {
        ScheduleState state = created(schedule, codeHash == null);
        OptionalLong v =
            store.put(schedule.name(), ScheduleCodec.encode(schedule, state, codeHash), 0);
        if (v.isPresent()) {
          return new ScheduleEntry(schedule, state, v.getAsLong(), codeHash != null);
        }
        continue;
      }
      Decoded d = ScheduleCodec.decode(stored.get());
      if (codeHash != null && codeHash.equals(d.codeHash())) {
        return d.entry();
      }
      Decoded next = replaced(d, schedule);
      if (codeHash != null) {
        next = new Decoded(next.entry(), codeHash);
      }
      Optional<ScheduleEntry> written = write(stored.get(), next);
      if (written.isPresent()) {
        return written.get();
      }
    }
    throw conflict(schedule.name());
  }

  private ScheduleEntry update(String name, UnaryOperator<Decoded> change) {
    Objects.requireNonNull(name, "name");
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      StoredSchedule stored =
          store
              .get(name)
              .orElseThrow(() -> new NoSuchElementException("no schedule named '" + name + "'"));
      Optional<ScheduleEntry> written = write(stored, change.apply(ScheduleCodec.decode(stored)));
      if (written.isPresent()) {
        return written.get();
      }
    }
    throw conflict(name);
  }

  private Optional<ScheduleEntry> write(StoredSchedule stored, Decoded next) {
    ScheduleEntry e = next.entry();
    OptionalLong v =
        store.put(
            stored.name(),
            ScheduleCodec.encode(e.schedule(), e.state(), next.codeHash()),
            stored.version());
    return v.isEmpty()
        ? Optional.empty()
        : Optional.of(
            new ScheduleEntry(e.schedule(), e.state(), v.getAsLong(), next.codeHash() != null));
  }

  private Decoded replaced(Decoded d, Schedule s) {
    if (!s.name().equals(d.entry().name())) {
      throw new IllegalArgumentException(
          "a schedule cannot be renamed ('" + d.entry().name() + "' to '" + s.name() + "')");
    }
    Schedule old = d.entry().schedule();
    ScheduleState st = d.entry().state();
    boolean retimed =
        !s.trigger().equals(old.trigger())
            || !s.zone().equals(old.zone())
            || !Objects.equals(s.start(), old.start())
            || (s.enabled() && !old.enabled());
    if (retimed) {
      st = oneOff(s, st.withCursorAtLeast(now()), d.codeHash() == null);
    }
    return withNext(s, st, d.codeHash());
  }

  /**
   * A one-off whose instant came a moment ago (within the grace: the command that set it took that
   * long) still fires, at once; one further in the past is refused when set by hand, and stored as
   * finished when it comes from code (a start-up must not fail on it).
   */
  private ScheduleState oneOff(Schedule s, ScheduleState st, boolean byHand) {
    if (!(s.trigger() instanceof Trigger.At at) || !s.enabled()) {
      return st;
    }
    Instant t = at.instant();
    if (t.isAfter(st.cursor())) {
      return st;
    }
    if (t.isBefore(now().minus(Beat.DEFAULT_MISFIRE_GRACE))) {
      if (byHand) {
        throw new IllegalArgumentException(
            "the one-off time "
                + t
                + " of schedule '"
                + s.name()
                + "' has passed (it is "
                + now().truncatedTo(ChronoUnit.SECONDS)
                + " now)");
      }
      return st;
    }
    return new ScheduleState(
        st.createdAt(),
        t.minusMillis(1),
        st.lastTick(),
        st.lastFiredAt(),
        st.lastTaskId(),
        st.nextFire(),
        st.totalRuns(),
        st.missedTicks());
  }

  private static Decoded withNext(Schedule s, ScheduleState st, String codeHash) {
    ScheduleState next = st.withNextFire(Planner.nextFire(s, st));
    return new Decoded(new ScheduleEntry(s, next, 1, codeHash != null), codeHash);
  }

  private ScheduleState created(Schedule s, boolean byHand) {
    ScheduleState st = oneOff(s, ScheduleState.created(clock.instant()), byHand);
    return st.withNextFire(Planner.nextFire(s, st));
  }

  private static IllegalStateException conflict(String name) {
    return new IllegalStateException(
        "schedule '" + name + "' kept changing under " + MAX_ATTEMPTS + " attempts to write it");
  }

  /** The client this sends with. */
  Client client() {
    return client;
  }

  /** Now, on this instance's clock. */
  Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }
}
