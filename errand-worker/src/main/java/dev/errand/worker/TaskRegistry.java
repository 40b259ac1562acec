package dev.errand.worker;

import dev.errand.TaskDef;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tasks a worker (or eager mode) can run: each task definition with its handler. Register
 * everything before starting a worker. Thread-safe.
 *
 * <pre>{@code
 * TaskRegistry tasks = new TaskRegistry()
 *     .handle(RESIZE, (img, ctx) -> resizer.resize(img))
 *     .handleVoid(SEND_EMAIL, (mail, ctx) -> mailer.send(mail));
 * }</pre>
 */
public final class TaskRegistry {

  /**
   * A task definition with its handler.
   *
   * @param task the definition
   * @param handler the handler
   */
  public record Registration<A, R>(TaskDef<A, R> task, TaskHandler<A, R> handler) {}

  private final Map<String, Registration<?, ?>> byName = new ConcurrentHashMap<>();

  /** An empty registry. */
  public TaskRegistry() {}

  /**
   * Registers a handler for a task.
   *
   * @throws IllegalArgumentException if a task of the same name is already registered
   */
  public <A, R> TaskRegistry handle(TaskDef<A, R> task, TaskHandler<A, R> handler) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(handler, "handler");
    Registration<A, R> r = new Registration<>(task, handler);
    if (byName.putIfAbsent(task.name(), r) != null) {
      throw new IllegalArgumentException("task '" + task.name() + "' is already registered");
    }
    return this;
  }

  /**
   * Registers a handler for a task without a result.
   *
   * @throws IllegalArgumentException if a task of the same name is already registered
   */
  public <A, R> TaskRegistry handleVoid(TaskDef<A, R> task, VoidTaskHandler<A> handler) {
    Objects.requireNonNull(handler, "handler");
    return handle(
        task,
        (argument, ctx) -> {
          handler.handle(argument, ctx);
          return null;
        });
  }

  /** The registration of {@code taskName}, if any. */
  public Optional<Registration<?, ?>> find(String taskName) {
    return Optional.ofNullable(byName.get(taskName));
  }

  /** The registered task names, sorted. */
  public Set<String> names() {
    return new TreeSet<>(byName.keySet());
  }

  /** Whether nothing is registered. */
  public boolean isEmpty() {
    return byName.isEmpty();
  }
}
