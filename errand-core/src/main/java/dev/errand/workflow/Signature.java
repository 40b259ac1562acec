package dev.errand.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.wire.Arguments;
import dev.errand.wire.Flow;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One task call that is not sent yet: a task, its argument, its options, and how it takes the
 * previous step's result when it follows one in a {@link Chain} (or a chord's results, as a
 * callback). Immutable and thread-safe; every method returns a new signature.
 *
 * <p>How the previous result reaches it:
 *
 * <ul>
 *   <li>{@link #of(TaskDef, Object)} and {@link #byName}: prepended to its positional arguments, as
 *       Celery does ({@code add.s(4)} after a step that returned 2 runs {@code add(2, 4)}).
 *   <li>{@link #receiving(TaskDef)}: the result is the whole argument (a record's fields from the
 *       result object), checked at compile time by {@link Chain#then(TaskDef)}.
 *   <li>{@link #resultAs(String)}: bound to one keyword argument (a record component), the rest of
 *       the argument as given.
 *   <li>{@link #immutable()}: ignored.
 * </ul>
 *
 * @param <R> the task's result type
 */
public final class Signature<R> implements Workflow {

  final String task;
  final Arguments.Json arguments;
  final Type resultType;
  final TaskOptions defaults;
  final TaskOptions options;
  final String pass;
  final List<Signature<?>> link;
  final List<Signature<?>> linkError;

  private Signature(
      String task,
      Arguments.Json arguments,
      Type resultType,
      TaskOptions defaults,
      TaskOptions options,
      String pass,
      List<Signature<?>> link,
      List<Signature<?>> linkError) {
    this.task = task;
    this.arguments = arguments;
    this.resultType = resultType;
    this.defaults = defaults;
    this.options = options;
    this.pass = pass;
    this.link = List.copyOf(link);
    this.linkError = List.copyOf(linkError);
  }

  /**
   * A call of {@code task} with {@code argument}; in a chain, the previous result is prepended to
   * its positional arguments.
   *
   * @throws IllegalArgumentException if the argument is not plain data
   */
  public static <A, R> Signature<R> of(TaskDef<A, R> task, A argument) {
    Objects.requireNonNull(task, "task");
    return new Signature<>(
        task.name(),
        Arguments.encode(task, argument),
        task.resultType(),
        task.options(),
        TaskOptions.none(),
        Flow.Pass.ARGS,
        List.of(),
        List.of());
  }

  /**
   * A call of {@code task} whose whole argument is the previous step's result (or, as a chord's
   * callback, the list of the members' results).
   */
  public static <A, R> Signature<R> receiving(TaskDef<A, R> task) {
    Objects.requireNonNull(task, "task");
    return new Signature<>(
        task.name(),
        new Arguments.Json(
            dev.errand.wire.Wire.mapper().createArrayNode(),
            dev.errand.wire.Wire.mapper().createObjectNode()),
        task.resultType(),
        task.options(),
        TaskOptions.none(),
        Flow.Pass.WHOLE,
        List.of(),
        List.of());
  }

  /**
   * A call of a task by name, for tasks written in another language or not known to this process:
   * {@code arguments} is a JSON array (positional), an object (keyword) or {@code {"args": [...],
   * "kwargs": {...}}}; null for none. In a chain, the previous result is prepended to the
   * positional arguments.
   */
  public static Signature<JsonNode> byName(String task, JsonNode arguments) {
    Objects.requireNonNull(task, "task");
    return new Signature<>(
        task,
        Arguments.fromJson(arguments),
        JsonNode.class,
        TaskOptions.none(),
        TaskOptions.none(),
        Flow.Pass.ARGS,
        List.of(),
        List.of());
  }

  /** A call built by this package (the built-in map task). */
  static <R> Signature<R> internal(String task, Arguments.Json arguments, Type resultType) {
    return new Signature<>(
        task,
        arguments,
        resultType,
        TaskOptions.none(),
        TaskOptions.none(),
        Flow.Pass.ARGS,
        List.of(),
        List.of());
  }

  /** The same call with {@code options} (queue, priority, countdown, expiry, retries, limits). */
  public Signature<R> options(TaskOptions options) {
    return new Signature<>(
        task,
        arguments,
        resultType,
        defaults,
        Objects.requireNonNull(options, "options"),
        pass,
        link,
        linkError);
  }

  /** The same call, ignoring the previous step's result. */
  public Signature<R> immutable() {
    return new Signature<>(task, arguments, resultType, defaults, options, null, link, linkError);
  }

  /** The same call, with the previous step's result bound to keyword argument {@code name}. */
  public Signature<R> resultAs(String name) {
    Objects.requireNonNull(name, "name");
    return new Signature<>(
        task,
        arguments,
        resultType,
        defaults,
        options,
        Flow.Pass.KWARG_PREFIX + name,
        link,
        linkError);
  }

  /**
   * The same call, with {@code callback} sent when it succeeds, given its result as the previous
   * result (by the callback's own rule). Several callbacks may be linked.
   */
  public Signature<R> link(Signature<?> callback) {
    List<Signature<?>> more = new ArrayList<>(link);
    more.add(Objects.requireNonNull(callback, "callback"));
    return new Signature<>(task, arguments, resultType, defaults, options, pass, more, linkError);
  }

  /**
   * The same call, with {@code callback} sent when it fails for good (after its last retry, or
   * revoked), given a {@link FailedTask} (the task's id, name and error) as its previous result.
   */
  public Signature<R> linkError(Signature<?> callback) {
    List<Signature<?>> more = new ArrayList<>(linkError);
    more.add(Objects.requireNonNull(callback, "callback"));
    return new Signature<>(task, arguments, resultType, defaults, options, pass, link, more);
  }

  /** The task's name. */
  public String task() {
    return task;
  }

  @Override
  public String toString() {
    return "Signature{" + task + "}";
  }
}
