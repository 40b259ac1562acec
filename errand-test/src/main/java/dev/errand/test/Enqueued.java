package dev.errand.test;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.InvalidMessageException;
import dev.errand.TaskOptions;
import dev.errand.wire.Arguments;
import dev.errand.wire.TaskMessage;
import java.lang.reflect.Type;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One task a {@link RecordingClient} was asked to send: what a worker would receive, read back from
 * the very message the client encoded (so routing, defaults, countdowns and the wire format are all
 * the real ones). Immutable and thread-safe.
 *
 * <pre>{@code
 * Enqueued<SendEmail> call = client.enqueued(SEND_EMAIL).get(0);
 * assertThat(call.argument()).isEqualTo(new SendEmail("ada@example.com", "Welcome"));
 * assertThat(call.queue()).isEqualTo("email");
 * assertThat(call.delay()).isEqualTo(Duration.ofMinutes(5));
 * }</pre>
 *
 * @param <A> the argument type: the task's, or {@code JsonNode} for calls read without a definition
 */
public final class Enqueued<A> {

  private final TaskMessage message;
  private final Type argumentType;

  Enqueued(TaskMessage message, Type argumentType) {
    this.message = Objects.requireNonNull(message, "message");
    this.argumentType = Objects.requireNonNull(argumentType, "argumentType");
  }

  /** The task id, as the handle returned by the enqueue call has it. */
  public String id() {
    return message.id();
  }

  /** The task name. */
  public String task() {
    return message.task();
  }

  /**
   * The argument, bound from the message exactly as a worker binds it: a record from its keyword
   * arguments, {@code null} for a {@code Void} task; for calls read without a definition, the
   * arguments as one {@code JsonNode} (the kwargs, the args array, or both).
   *
   * @throws InvalidMessageException if a worker could not bind them either (the message names why)
   */
  @SuppressWarnings("unchecked")
  public A argument() {
    return (A) Arguments.bind(message, argumentType);
  }

  /** The positional arguments as sent (empty for a record argument). */
  public ArrayNode args() {
    return message.args().deepCopy();
  }

  /** The keyword arguments as sent (a record's components). */
  public ObjectNode kwargs() {
    return message.kwargs().deepCopy();
  }

  /**
   * The queue it was sent to: the call's option, else a route, the definition's, {@code default}.
   */
  public String queue() {
    return message.queue();
  }

  /** Its priority, 0-9 ({@value TaskOptions#DEFAULT_PRIORITY} unless set). */
  public int priority() {
    return message.priority();
  }

  /** When it was sent, by the client's clock (the test's {@link MutableClock}). */
  public Instant sentAt() {
    return message.sentAt();
  }

  /** The earliest instant it may run (from a countdown or an eta), or null for at once. */
  public Instant eta() {
    return message.eta();
  }

  /**
   * How long after it was sent it becomes due: the countdown it was sent with, or the time from
   * sending to its eta; zero if it has none (or its eta had passed).
   */
  public Duration delay() {
    Instant eta = message.eta();
    if (eta == null || !eta.isAfter(message.sentAt())) {
      return Duration.ZERO;
    }
    return Duration.between(message.sentAt(), eta);
  }

  /**
   * How long from {@code clock}'s now until it is due; zero if it is due. With the test's clock,
   * {@code clock.advance(call.dueIn(clock))} makes it due.
   */
  public Duration dueIn(Clock clock) {
    Instant eta = message.eta();
    Instant now = clock.instant();
    return eta == null || !eta.isAfter(now) ? Duration.ZERO : Duration.between(now, eta);
  }

  /** The instant after which a worker revokes it instead of running it, or null. */
  public Instant expires() {
    return message.expires();
  }

  /** The idempotency key it was sent with, or null. */
  public String idempotencyKey() {
    return message.idempotencyKey();
  }

  /**
   * Its headers: {@code requestId}, {@code errand-parent} and any custom header (see
   * docs/wire-format.md).
   */
  public Map<String, String> headers() {
    return message.headers();
  }

  /**
   * The execution options the call set (retry policy, time limits, ignore result, acks late), as a
   * worker reads them; options left to the task definition are absent. Queue, priority, eta, expiry
   * and key have their own accessors above.
   */
  public TaskOptions options() {
    return message.options().toTaskOptions();
  }

  /** The whole message, for anything the accessors above do not show. */
  public TaskMessage message() {
    return message;
  }

  /** For assertion messages: {@code emails.send {"to":"ada"} on email, due in PT5M}. */
  @Override
  public String toString() {
    Duration delay = delay();
    return message.task()
        + " "
        + message.argumentsForDisplay()
        + " on "
        + message.queue()
        + (delay.isZero() ? "" : ", due in " + delay);
  }
}
