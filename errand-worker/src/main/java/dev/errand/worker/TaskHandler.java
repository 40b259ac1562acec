package dev.errand.worker;

/**
 * Runs a task: receives the bound argument and the task's context, returns the result. May throw
 * any exception; whether it is retried is up to the task's {@link dev.errand.RetryPolicy}.
 * Implementations must be thread-safe: one handler runs many tasks at once.
 *
 * @param <A> the argument type
 * @param <R> the result type
 */
@FunctionalInterface
public interface TaskHandler<A, R> {

  /**
   * Runs the task.
   *
   * @param argument the argument bound from the message
   * @param ctx the task's context: ids, progress, retry, cancellation, once
   * @return the result, stored as JSON unless the task ignores results
   * @throws Exception to fail the attempt (retried per the retry policy)
   */
  R handle(A argument, TaskContext ctx) throws Exception;
}
