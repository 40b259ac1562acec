package dev.errand.worker;

/**
 * A {@link TaskHandler} for tasks with no result. Thread-safe like any handler.
 *
 * @param <A> the argument type
 */
@FunctionalInterface
public interface VoidTaskHandler<A> {

  /**
   * Runs the task.
   *
   * @throws Exception to fail the attempt (retried per the retry policy)
   */
  void handle(A argument, TaskContext ctx) throws Exception;
}
