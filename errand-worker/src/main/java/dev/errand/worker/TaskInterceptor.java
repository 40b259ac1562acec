package dev.errand.worker;

/**
 * Wraps every handler call: for tracing, metrics, security context or logging. Interceptors run in
 * the order they were added, the first outermost; each must call {@link Chain#proceed()} once (or
 * throw). Implementations must be thread-safe.
 *
 * <pre>{@code
 * TaskInterceptor timing = chain -> {
 *   long t0 = System.nanoTime();
 *   try { return chain.proceed(); }
 *   finally { timer.record(System.nanoTime() - t0, NANOSECONDS); }
 * };
 * }</pre>
 */
@FunctionalInterface
public interface TaskInterceptor {

  /** Runs around the handler; returns what the handler (or an inner interceptor) returned. */
  Object intercept(Chain chain) throws Exception;

  /** The rest of the chain, ending with the handler. */
  interface Chain {
    /** The running task's context. */
    TaskContext context();

    /** The bound argument. */
    Object argument();

    /** Calls the next interceptor, or the handler. */
    Object proceed() throws Exception;
  }
}
