package dev.errand.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a Spring bean's method, or a bean that is a {@link dev.errand.worker.TaskHandler}, the
 * handler of a task, so the handler gets dependency injection like any bean.
 *
 * <pre>{@code
 * @Component
 * class Emails {
 *   private final Mailer mailer;
 *   Emails(Mailer mailer) { this.mailer = mailer; }
 *
 *   @ErrandTask(value = "emails.send", queue = "mail", maxRetries = 5, softTimeLimit = "30s")
 *   void send(Mail mail) { mailer.send(mail); }
 * }
 * }</pre>
 *
 * <p>A method takes at most one argument, bound from the message (any type Jackson binds: a record,
 * a list, a string), and optionally a {@link dev.errand.worker.TaskContext} for progress, retries
 * and ids; what it returns is the task's result ({@code void}: none). A method that does not fit is
 * refused at startup with the bean and method named. Options left at their defaults are not set, so
 * a call's own options and the routes decide.
 *
 * <p>Durations are written as Spring Boot writes them ({@code 500ms}, {@code 30s}, {@code 5m},
 * {@code PT1H}); a rate as {@code 10/s}, {@code 100/m} or {@code 1000/h}.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ErrandTask {

  /** The task's name, e.g. {@code emails.send} (lower case, dotted). */
  String value();

  /** The queue its calls go to unless a call or a route names another; "" = the default queue. */
  String queue() default "";

  /** The calls' priority, 0 to 9 (9 runs first); -1 = unset (5). */
  int priority() default -1;

  /** Retries after the first attempt fails; -1 = unset (the retry policy's default, 3). */
  int maxRetries() default -1;

  /** The first retry's delay, doubled each retry with jitter; "" = unset (1 s). */
  String retryBackoff() default "";

  /** A soft time limit: the task is asked to stop; "" = none. */
  String softTimeLimit() default "";

  /** A hard time limit: the task's attempt is abandoned; "" = none. */
  String hardTimeLimit() default "";

  /** A rate limit over all workers, e.g. {@code 10/s}; "" = none. */
  String rateLimit() default "";

  /** The most calls of this task running at once over all workers; 0 = no limit. */
  int concurrencyLimit() default 0;

  /** How long after sending a call is dropped if not started; "" = never. */
  String expires() default "";

  /** Store no result (the task's outcome is still recorded). */
  boolean ignoreResult() default false;
}
