package dev.errand.examples.spring;

import dev.errand.TaskDef;
import dev.errand.spring.ErrandSchedule;
import dev.errand.spring.ErrandTask;
import dev.errand.worker.TaskContext;
import org.springframework.stereotype.Component;

/** The report task: a bean, so it could use any other bean (a repository, a mailer). */
@Component
public class Reports {

  /** A report request. */
  public record Request(int days) {}

  /** What a report says. */
  public record Report(int days, long rows, String download) {}

  /** The task as producers name it. */
  public static final TaskDef<Request, Report> BUILD =
      TaskDef.of("reports.build", Request.class, Report.class);

  @ErrandTask(value = "reports.build", softTimeLimit = "5m", maxRetries = 2)
  public Report build(Request request, TaskContext ctx) throws InterruptedException {
    int days = request.days();
    for (int day = 1; day <= days; day++) {
      Thread.sleep(200); // a day's worth of queries
      ctx.progress(day, days);
    }
    return new Report(days, days * 1_000L, "/downloads/" + ctx.id() + ".csv");
  }

  @ErrandTask("reports.nightly")
  @ErrandSchedule(cron = "0 2 * * *", zone = "Europe/Paris")
  public void nightly() {
    // the nightly summary would be built here
  }
}
