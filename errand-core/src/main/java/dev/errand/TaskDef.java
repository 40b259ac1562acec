package dev.errand;

import com.fasterxml.jackson.core.type.TypeReference;
import java.lang.reflect.Type;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The definition of a task: its name, argument type, result type and default options. A value
 * shared by producers and workers; a producer needs only the definition, never the handler.
 * Immutable and thread-safe.
 *
 * <pre>{@code
 * record SendEmail(String to, String subject) {}
 * static final TaskDef<SendEmail, Void> SEND_EMAIL =
 *     TaskDef.builder("emails.send", SendEmail.class, Void.class)
 *         .options(TaskOptions.builder().queue("email").retry(RetryPolicy.defaults()).build())
 *         .build();
 * }</pre>
 *
 * <p>A record argument travels as JSON keyword arguments, one per component; a worker also binds
 * positional arguments to the components in order. Any other argument type (a String, a List)
 * travels as a single positional argument. Producers send plain data only ({@link
 * dev.errand.wire.PlainData}: no POJOs, no {@code Thread} inside a record) and refuse a null
 * argument, except for a task that takes none: argument type {@code Void}, sent with {@code
 * client.enqueue(task)}.
 *
 * @param <A> the argument type
 * @param <R> the result type; {@link Void} for none
 */
public final class TaskDef<A, R> {

  /**
   * Task names: words of letters, digits, {@code _}, {@code -} and {@code $}, joined by {@code .}
   * or {@code :}, starting with a letter or {@code _}; e.g. {@code emails.send}, {@code
   * reports.daily_sales}, or a Celery task's name as Python registers it ({@code proj.tasks.add},
   * {@code billing.tasks.SendInvoice}). Errand's own convention is dotted lower case.
   */
  public static final Pattern NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_$-]*([.:][A-Za-z0-9_$-]+)*");

  /** Longest task name accepted: {@value}. */
  public static final int MAX_NAME_LENGTH = 200;

  private final String name;
  private final Type argType;
  private final Type resultType;
  private final TaskOptions options;
  private final Function<A, String> limitKeyFunction;
  private final Function<A, String> uniqueKeyFunction;

  private TaskDef(Builder<A, R> b) {
    this.name = b.name;
    this.argType = b.argType;
    this.resultType = b.resultType;
    this.options = b.options;
    this.limitKeyFunction = b.limitKeyFunction;
    this.uniqueKeyFunction = b.uniqueKeyFunction;
  }

  /** A definition with default options. */
  public static <A, R> TaskDef<A, R> of(String name, Class<A> argType, Class<R> resultType) {
    return builder(name, argType, resultType).build();
  }

  /** A definition of a task that returns nothing. */
  public static <A> TaskDef<A, Void> of(String name, Class<A> argType) {
    return builder(name, argType, Void.class).build();
  }

  /** A builder for a definition. */
  public static <A, R> Builder<A, R> builder(String name, Class<A> argType, Class<R> resultType) {
    return new Builder<>(name, argType, resultType);
  }

  /** A builder for a definition with a generic result type such as {@code List<String>}. */
  public static <A, R> Builder<A, R> builder(
      String name, Class<A> argType, TypeReference<R> resultType) {
    return new Builder<>(name, argType, resultType.getType());
  }

  /**
   * A builder for a definition whose types are known only by reflection, such as a framework
   * reading a handler method's parameter and return types ({@code List<Order>}, {@code int}). The
   * caller vouches that {@code A} and {@code R} are these types.
   */
  public static <A, R> Builder<A, R> builder(String name, Type argType, Type resultType) {
    return new Builder<>(name, argType, resultType);
  }

  /** A builder starting from this definition. */
  public Builder<A, R> toBuilder() {
    Builder<A, R> b = new Builder<A, R>(name, argType, resultType).options(options);
    b.limitKeyFunction = limitKeyFunction;
    b.uniqueKeyFunction = uniqueKeyFunction;
    return b;
  }

  /** How each call's limit key is computed from its argument, or null. */
  public Function<A, String> limitKeyFunction() {
    return limitKeyFunction;
  }

  /** How each call's unique key is computed from its argument, or null. */
  public Function<A, String> uniqueKeyFunction() {
    return uniqueKeyFunction;
  }

  /** The task's name. */
  public String name() {
    return name;
  }

  /** The argument type. */
  public Type argType() {
    return argType;
  }

  /** The result type. */
  public Type resultType() {
    return resultType;
  }

  /** The default options; never null. */
  public TaskOptions options() {
    return options;
  }

  /**
   * Checks a task name.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static String validName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.length() > MAX_NAME_LENGTH || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "task name must be words of letters, digits, '_', '-' or '$' joined by '.' or ':'"
              + " like 'emails.send' or 'proj.tasks.Add' (at most "
              + MAX_NAME_LENGTH
              + " characters) but was '"
              + name
              + "'");
    }
    return name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TaskDef<?, ?> d
        && name.equals(d.name)
        && argType.equals(d.argType)
        && resultType.equals(d.resultType)
        && options.equals(d.options);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return "TaskDef{"
        + name
        + "("
        + argType.getTypeName()
        + ") -> "
        + resultType.getTypeName()
        + "}";
  }

  /** Builds a {@link TaskDef}. Not thread-safe. */
  public static final class Builder<A, R> {
    private final String name;
    private final Type argType;
    private final Type resultType;
    private TaskOptions options = TaskOptions.none();
    private Function<A, String> limitKeyFunction;
    private Function<A, String> uniqueKeyFunction;

    private Builder(String name, Type argType, Type resultType) {
      this.name = validName(name);
      this.argType = Objects.requireNonNull(argType, "argType");
      this.resultType = Objects.requireNonNull(resultType, "resultType");
    }

    /** Default options of every call; a call's own options override them one by one. */
    public Builder<A, R> options(TaskOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /**
     * Computes each call's limit key from its argument ({@code a -> "seller:" + a.sellerId()}),
     * where the call sets none: see {@link TaskOptions.Builder#limitKey}. Runs in the producer, at
     * enqueue.
     */
    public Builder<A, R> limitKey(Function<A, String> key) {
      this.limitKeyFunction = Objects.requireNonNull(key, "limitKey");
      return this;
    }

    /**
     * Computes each call's unique key from its argument, where the call sets none: see {@link
     * TaskOptions.Builder#uniqueKey}.
     */
    public Builder<A, R> uniqueKey(Function<A, String> key) {
      this.uniqueKeyFunction = Objects.requireNonNull(key, "uniqueKey");
      return this;
    }

    /** Builds the definition. */
    public TaskDef<A, R> build() {
      return new TaskDef<>(this);
    }
  }
}
