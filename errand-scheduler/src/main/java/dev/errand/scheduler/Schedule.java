package dev.errand.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.wire.Arguments;
import dev.errand.wire.Wire;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A schedule's definition: which task to send, with which arguments and options, and when. What the
 * scheduler did with it (last and next fire, runs) is its {@link ScheduleState}. Immutable and
 * thread-safe; derive a changed copy with {@link #toBuilder()}.
 *
 * <pre>{@code
 * Schedule nightly = Schedule.builder("nightly-report")
 *     .task(REPORT, new Report("daily"))
 *     .cron("0 2 * * *")
 *     .zone(ZoneId.of("Europe/Berlin"))
 *     .build();
 * }</pre>
 */
public final class Schedule {

  /** The zone of a schedule unless another is given: UTC. */
  public static final ZoneId DEFAULT_ZONE = ZoneId.of("UTC");

  /**
   * What a schedule does with missed ticks unless told otherwise: {@link MissedRuns#runOnce()}, one
   * task for the latest missed tick, so a nightly job missed during a deploy still runs (as Celery
   * beat does). {@code errand schedule add --missed}, the dashboard's form and a stored schedule
   * without the field take this default.
   */
  public static final MissedRuns DEFAULT_MISSED_RUNS = MissedRuns.runOnce();

  /**
   * What a valid schedule name looks like: a letter or digit, then letters, digits, {@code ._:-}.
   */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,199}");

  private final String name;
  private final String task;
  private final ArrayNode args;
  private final ObjectNode kwargs;
  private final Trigger trigger;
  private final ZoneId zone;
  private final String queue;
  private final Integer priority;
  private final Duration expires;
  private final boolean enabled;
  private final Instant start;
  private final Instant end;
  private final Long maxRuns;
  private final MissedRuns missedRuns;

  private Schedule(Builder b) {
    this.name = b.name;
    this.task = Objects.requireNonNull(b.task, () -> "schedule '" + b.name + "' has no task");
    this.args = b.args.deepCopy();
    this.kwargs = b.kwargs.deepCopy();
    this.trigger =
        Objects.requireNonNull(b.trigger, () -> "schedule '" + b.name + "' has no trigger");
    this.zone = b.zone;
    this.queue = b.queue;
    this.priority = b.priority;
    this.expires = b.expires;
    this.enabled = b.enabled;
    this.start = b.start;
    this.end = b.end;
    this.maxRuns = b.maxRuns;
    this.missedRuns = b.missedRuns;
    if (start != null && end != null && !end.isAfter(start)) {
      throw new IllegalArgumentException(
          "schedule '" + name + "' ends (" + end + ") before it starts (" + start + ")");
    }
  }

  /** A builder for a schedule named {@code name} (see {@link #NAME}), unique in the backend. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A builder holding this schedule's values. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.task = task;
    b.args = args.deepCopy();
    b.kwargs = kwargs.deepCopy();
    b.trigger = trigger;
    b.zone = zone;
    b.queue = queue;
    b.priority = priority;
    b.expires = expires;
    b.enabled = enabled;
    b.start = start;
    b.end = end;
    b.maxRuns = maxRuns;
    b.missedRuns = missedRuns;
    return b;
  }

  /** The unique name. */
  public String name() {
    return name;
  }

  /** The name of the task sent. */
  public String task() {
    return task;
  }

  /** Positional arguments of the task (a copy). */
  public ArrayNode args() {
    return args.deepCopy();
  }

  /** Keyword arguments of the task (a copy). */
  public ObjectNode kwargs() {
    return kwargs.deepCopy();
  }

  /** When it fires. */
  public Trigger trigger() {
    return trigger;
  }

  /** The zone cron fields are read in; default UTC. */
  public ZoneId zone() {
    return zone;
  }

  /** The queue, or null for the client's routing (then {@value TaskOptions#DEFAULT_QUEUE}). */
  public String queue() {
    return queue;
  }

  /** The priority 0-9, or null for the default. */
  public Integer priority() {
    return priority;
  }

  /** How long after its tick a fired task may start before it expires, or null for never. */
  public Duration expires() {
    return expires;
  }

  /** False while paused; default true. */
  public boolean enabled() {
    return enabled;
  }

  /** No tick before this instant, or null. Interval ticks count from here when set. */
  public Instant start() {
    return start;
  }

  /** No tick after this instant, or null. */
  public Instant end() {
    return end;
  }

  /** The most ticks ever fired, or null for no limit. */
  public Long maxRuns() {
    return maxRuns;
  }

  /** What happens to missed ticks; default {@link #DEFAULT_MISSED_RUNS} (run once). */
  public MissedRuns missedRuns() {
    return missedRuns;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Schedule s
        && name.equals(s.name)
        && task.equals(s.task)
        && args.equals(s.args)
        && kwargs.equals(s.kwargs)
        && trigger.equals(s.trigger)
        && zone.equals(s.zone)
        && Objects.equals(queue, s.queue)
        && Objects.equals(priority, s.priority)
        && Objects.equals(expires, s.expires)
        && enabled == s.enabled
        && Objects.equals(start, s.start)
        && Objects.equals(end, s.end)
        && Objects.equals(maxRuns, s.maxRuns)
        && missedRuns.equals(s.missedRuns);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, task, trigger, zone);
  }

  @Override
  public String toString() {
    return "Schedule[" + name + ": " + task + " " + trigger.describe() + " " + zone + "]";
  }

  /** Builds a {@link Schedule}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private String task;
    private ArrayNode args = Wire.mapper().createArrayNode();
    private ObjectNode kwargs = Wire.mapper().createObjectNode();
    private Trigger trigger;
    private ZoneId zone = DEFAULT_ZONE;
    private String queue;
    private Integer priority;
    private Duration expires;
    private boolean enabled = true;
    private Instant start;
    private Instant end;
    private Long maxRuns;
    private MissedRuns missedRuns = DEFAULT_MISSED_RUNS;

    private Builder(String name) {
      Objects.requireNonNull(name, "name");
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "schedule name must be 1-200 letters, digits or ._:- (not starting with ._:-) but was '"
                + name
                + "'");
      }
      this.name = name;
    }

    /**
     * Sends {@code task} with {@code argument}, encoded and checked as a client would; takes the
     * definition's queue and priority unless set here.
     *
     * @throws IllegalArgumentException if the argument is null (for a task that takes one) or not
     *     plain data, as {@code Client.enqueue} says
     */
    public <A> Builder task(TaskDef<A, ?> task, A argument) {
      Objects.requireNonNull(task, "task");
      Arguments.Json json = Arguments.encode(task, argument);
      this.task = task.name();
      this.args = json.args();
      this.kwargs = json.kwargs();
      TaskOptions o = task.options();
      if (queue == null && o.queue() != null) {
        queue = o.queue();
      }
      if (priority == null && o.priority() != null) {
        priority = o.priority();
      }
      return this;
    }

    /** Sends the task named {@code task} (for tasks defined elsewhere, or in Python). */
    public Builder task(String task) {
      Objects.requireNonNull(task, "task");
      if (task.isBlank()
          || task.length() > TaskDef.MAX_NAME_LENGTH
          || task.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException(
            "task name must be 1-"
                + TaskDef.MAX_NAME_LENGTH
                + " characters without white space but was '"
                + task
                + "'");
      }
      this.task = task;
      return this;
    }

    /**
     * Raw JSON arguments: an array is positional, an object keyword arguments, null none; default
     * none.
     */
    public Builder args(JsonNode arguments) {
      Arguments.Json json = Arguments.fromJson(arguments);
      this.args = json.args();
      this.kwargs = json.kwargs();
      return this;
    }

    /** Positional and keyword arguments; either may be null. */
    public Builder args(ArrayNode args, ObjectNode kwargs) {
      this.args = args == null ? Wire.mapper().createArrayNode() : args.deepCopy();
      this.kwargs = kwargs == null ? Wire.mapper().createObjectNode() : kwargs.deepCopy();
      return this;
    }

    /** When it fires. */
    public Builder trigger(Trigger trigger) {
      this.trigger = Objects.requireNonNull(trigger, "trigger");
      return this;
    }

    /** Fires on a cron expression; see {@link Trigger#cron}. */
    public Builder cron(String expression) {
      return trigger(Trigger.cron(expression));
    }

    /** Fires every {@code interval} (at least 1 s); see {@link Trigger#every}. */
    public Builder every(Duration interval) {
      return trigger(Trigger.every(interval));
    }

    /** Fires once, at {@code instant}. */
    public Builder at(Instant instant) {
      return trigger(Trigger.at(instant));
    }

    /** The zone cron fields are read in; default UTC. */
    public Builder zone(ZoneId zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /** The queue to send to; default the client's routing, then the default queue. */
    public Builder queue(String queue) {
      this.queue = queue == null ? null : TaskOptions.validQueue(queue);
      return this;
    }

    /** The priority 0-9 (9 first); default {@value TaskOptions#DEFAULT_PRIORITY}. */
    public Builder priority(Integer priority) {
      if (priority != null
          && (priority < TaskOptions.MIN_PRIORITY || priority > TaskOptions.MAX_PRIORITY)) {
        throw new IllegalArgumentException("priority must be 0-9 but was " + priority);
      }
      this.priority = priority;
      return this;
    }

    /**
     * A fired task expires if not started within this long after its tick ({@code > 0}); null (the
     * default) for never.
     */
    public Builder expires(Duration expires) {
      if (expires != null && (expires.isNegative() || expires.isZero())) {
        throw new IllegalArgumentException("expires must be > 0 but was " + expires);
      }
      this.expires = expires;
      return this;
    }

    /** False to store it paused; default true. */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /** No tick before this instant; null (the default) for no start. */
    public Builder start(Instant start) {
      this.start = start;
      return this;
    }

    /** No tick after this instant; null (the default) for no end. */
    public Builder end(Instant end) {
      this.end = end;
      return this;
    }

    /** The most ticks fired, {@code > 0}; null (the default) for no limit. */
    public Builder maxRuns(Long maxRuns) {
      if (maxRuns != null && maxRuns < 1) {
        throw new IllegalArgumentException("maxRuns must be > 0 but was " + maxRuns);
      }
      this.maxRuns = maxRuns;
      return this;
    }

    /**
     * What happens to missed ticks; default {@link #DEFAULT_MISSED_RUNS}: one task for the latest
     * missed tick. {@link MissedRuns#skip()} fires none of them.
     */
    public Builder missedRuns(MissedRuns missedRuns) {
      this.missedRuns = Objects.requireNonNull(missedRuns, "missedRuns");
      return this;
    }

    /**
     * Builds the schedule.
     *
     * @throws NullPointerException if the task or trigger is missing
     * @throws IllegalArgumentException if the end is not after the start
     */
    public Schedule build() {
      return new Schedule(this);
    }
  }
}
