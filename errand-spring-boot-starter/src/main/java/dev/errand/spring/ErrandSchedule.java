package dev.errand.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Fires the {@link ErrandTask} method it is on by the scheduler ({@code errand.beat.enabled=true}):
 * on a cron expression in a time zone, or every fixed interval. The schedule is stored in the
 * backend through {@link dev.errand.scheduler.Beat}, so several instances of the application fire
 * it once between them, and the dashboard shows it.
 *
 * <pre>{@code
 * @ErrandTask("reports.nightly")
 * @ErrandSchedule(cron = "0 2 * * *", zone = "Europe/Paris")
 * void nightly() { ... }
 * }</pre>
 *
 * <p>Exactly one of {@link #cron} and {@link #every} is set; anything else is refused at startup
 * with the method named. Repeatable: a method may have several schedules (give each a name).
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Repeatable(ErrandSchedules.class)
public @interface ErrandSchedule {

  /** The schedule's name; "" = the task's name (plus {@code #2}, ... for further schedules). */
  String name() default "";

  /** A cron expression: 5 fields (minute to day of week), or 6 with seconds first. */
  String cron() default "";

  /** A fixed interval ({@code 30s}, {@code 5m}, {@code PT1H}). */
  String every() default "";

  /** The time zone of {@link #cron} (an IANA name); "" = UTC. */
  String zone() default "";

  /** The argument, as JSON ({@code {"days": 7}}); "" = none (a method that takes none). */
  String args() default "";

  /** The queue; "" = the task's. */
  String queue() default "";

  /** Whether the schedule fires; a paused schedule is stored but skipped. */
  boolean enabled() default true;
}
