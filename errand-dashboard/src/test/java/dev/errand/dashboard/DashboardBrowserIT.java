package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.Schedules;
import dev.errand.spi.Backend;
import dev.errand.spi.TaskQuery;
import dev.errand.sqlite.SqliteBackend;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium ({@link Chromium}), against a SQLite backend with a
 * running worker. Each test leaves a screenshot of its page ({@link Chromium#SHOTS}; the docs show
 * them from {@code docs/dashboard/}), and checks that the page ran without a
 * Content-Security-Policy violation.
 */
class DashboardBrowserIT {

  static final Duration WAIT = Chromium.WAIT;

  record Job(String label) {}

  static final TaskDef<Job, String> OK = TaskDef.of("demo.ok", Job.class, String.class);
  static final TaskDef<Job, String> BROKEN =
      TaskDef.builder("reports.build", Job.class, String.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).build())
          .build();
  static final TaskDef<Job, String> FLAKY =
      TaskDef.builder("emails.send", Job.class, String.class)
          .options(TaskOptions.builder().retry(RetryPolicy.none()).build())
          .build();

  @TempDir static Path dir;
  static Backend backend;
  static Client client;
  static Worker worker;
  static Dashboard dashboard;
  static WebDriver browser;
  static final AtomicBoolean smtpUp = new AtomicBoolean();

  @BeforeAll
  static void start() throws Exception {
    browser = Chromium.driver();
    backend = SqliteBackend.open(dir.resolve("dashboard.db"), java.time.Clock.systemUTC());
    client = Client.create(backend);
    worker =
        Worker.builder(backend)
            .handle(OK, (job, ctx) -> "done " + job.label())
            .handle(
                BROKEN,
                (job, ctx) -> {
                  throw new IOException("disk full while writing " + job.label());
                })
            .handle(
                FLAKY,
                (job, ctx) -> {
                  if (!smtpUp.get()) {
                    throw new IOException("smtp.example.com: connection refused");
                  }
                  return "sent to " + job.label();
                })
            .options(
                WorkerOptions.builder()
                    .queues("default", "reports")
                    .concurrency(2)
                    .pollInterval(Duration.ofMillis(100))
                    .build())
            .build()
            .start();
    dashboard = Dashboard.builder(backend).port(0).build().start();
    browser.manage().window().setSize(new Dimension(1440, 1000));
  }

  @AfterAll
  static void stop() {
    if (dashboard != null) dashboard.close();
    if (worker != null) worker.close();
    if (backend != null) backend.close();
  }

  @AfterEach
  void ranUnderThePolicy() {
    assertThat(Chromium.cspViolations()).as("Content-Security-Policy violations").isEmpty();
  }

  /** Opens a page of the dashboard, after checking the page left ran under the policy. */
  static void open(String hash) {
    assertThat(Chromium.cspViolations()).as("Content-Security-Policy violations").isEmpty();
    Chromium.load(dashboard.url() + "/#/" + hash);
  }

  static WebElement waitFor(By by) {
    return Chromium.waitFor(by);
  }

  static void waitForText(By by, String text) {
    Chromium.waitForText(by, text);
  }

  static Alert dialog() {
    return Chromium.dialog();
  }

  /** Clicks Purge in {@code row} and returns the prompt asking for the queue's name. */
  static Alert purge(By row) {
    browser.findElement(row).findElement(By.xpath(".//button[text()='Purge']")).click();
    return dialog();
  }

  /** Asserts {@code condition} holds and keeps holding: a cancelled action sends nothing late. */
  static void stays(java.util.concurrent.Callable<Boolean> condition) {
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(condition);
  }

  @Test
  void theOverviewShowsTheTasksJustRun() throws Exception {
    List<AsyncResult<String>> runs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      runs.add(client.enqueue(OK, new Job("job-" + i)));
    }
    for (AsyncResult<String> r : runs) {
      r.get(WAIT);
    }

    open("overview");
    new WebDriverWait(browser, WAIT)
        .until(d -> Integer.parseInt(d.findElement(By.id("c-succeeded")).getText()) >= 5);
    waitFor(By.cssSelector("#chart .uplot"));
    Chromium.screenshot("overview");

    open("workers");
    waitForText(By.tagName("main"), worker.name());
    assertThat(browser.findElement(By.tagName("main")).getText()).contains("ok");
    Chromium.screenshot("workers");
    client.enqueue(
        OK,
        new Job("tomorrow"),
        TaskOptions.builder().queue("later").countdown(Duration.ofHours(1)).build());
    open("queues");
    waitForText(By.tagName("main"), "later");
    Chromium.screenshot("queues");
  }

  @Test
  void aQueueWithReadyMessagesAndNoConsumerIsFlaggedOnTheQueuesPageAndTheOverview()
      throws Exception {
    // The worker consumes default and reports; a task sent to "email" waits for nobody.
    client.enqueue(OK, new Job("welcome"), TaskOptions.builder().queue("email").build());
    try {
      open("queues");
      waitForText(By.id("unconsumed"), "email");
      assertThat(browser.findElement(By.id("unconsumed")).getText())
          .startsWith("1 queue has ready messages and no live worker consuming it: email.");
      WebElement consumers = browser.findElement(By.xpath("//tr[td[1][text()='email']]/td[9]"));
      assertThat(consumers.getText()).startsWith("0");
      assertThat(consumers.getAttribute("class")).contains("bad");
      assertThat(browser.findElement(By.xpath("//tr[td[1][text()='default']]/td[9]")).getText())
          .isEqualTo("1");
      Chromium.screenshot("queues-unconsumed");

      open("overview");
      waitForText(By.id("unconsumed"), "email");
    } finally {
      backend.broker().purge("email");
    }
  }

  @Test
  void aQueueIsPausedAndResumedFromTheQueuesPageWhichShowsTheLimitsInUse() throws Exception {
    // No worker consumes "hooks": its tasks wait on their key, three of them.
    TaskOptions limited =
        TaskOptions.builder()
            .queue("hooks")
            .rateLimit("30/m")
            .concurrencyLimit(2)
            .limitKey("endpoint:<b>partner</b>.example")
            .build();
    for (int i = 0; i < 3; i++) {
      client.enqueue(OK, new Job("hook-" + i), limited);
    }
    try {
      open("queues");
      By row = By.xpath("//tr[td[1][text()='hooks']]");
      waitFor(row).findElement(By.xpath(".//button[text()='Pause']")).click();
      await().atMost(WAIT).until(() -> backend.broker().pausedQueues().contains("hooks"));
      waitForText(row, "paused");
      assertThat(browser.findElement(row).findElement(By.xpath("td[6]")).getText())
          .as("limited")
          .isEqualTo("3");

      waitForText(By.id("limits"), "endpoint:<b>partner</b>.example");
      WebElement key =
          browser.findElement(By.xpath("//table[@id='limits']//tr[td[1][text()='hooks']]"));
      assertThat(key.getText()).contains("30/m").contains("0/2");
      assertThat(browser.findElements(By.xpath("//table[@id='limits']//b")))
          .as("escaped")
          .isEmpty();
      Chromium.screenshot("queues-paused-limits");

      browser.findElement(row).findElement(By.xpath(".//button[text()='Resume']")).click();
      await().atMost(WAIT).until(() -> backend.broker().pausedQueues().isEmpty());
      waitFor(By.xpath("//tr[td[1][text()='hooks']]//button[text()='Pause']"));
    } finally {
      backend.broker().resume("hooks");
      backend.broker().purge("hooks");
    }
  }

  @Test
  void aFailedTaskIsFoundBySearchAndItsTracebackShown() throws Exception {
    AsyncResult<String> failed = client.enqueue(BROKEN, new Job("q3-report"));
    await().atMost(WAIT).until(() -> failed.state() == TaskState.FAILURE);

    open("tasks");
    new Select(waitFor(By.name("state"))).selectByVisibleText("FAILURE");
    browser.findElement(By.name("name")).sendKeys("reports.build");
    browser.findElement(By.cssSelector("#search button")).click();
    WebElement link = waitFor(By.linkText(failed.id()));
    Chromium.screenshot("tasks");
    link.click();

    waitForText(By.id("traceback"), "java.io.IOException: disk full while writing q3-report");
    assertThat(browser.findElement(By.tagName("main")).getText())
        .contains("FAILURE")
        .contains("\"label\": \"q3-report\"");
    // Each step from the event log, in order (the dead letter is stored before the outcome).
    assertThat(browser.findElement(By.id("timeline")).getText())
        .containsSubsequence("sent", "received", "started", "dead-lettered", "failed")
        .contains("on " + worker.name())
        .contains("disk full while writing q3-report");
    browser.manage().window().setSize(new Dimension(1440, 1500)); // the timeline too
    Chromium.screenshot("task");
    browser.manage().window().setSize(new Dimension(1440, 1000));
  }

  @Test
  void aDeadLetterIsRedrivenAndThenSucceeds() throws Exception {
    AsyncResult<String> mail = client.enqueue(FLAKY, new Job("ada@example.com"));
    await().atMost(WAIT).until(() -> backend.deadLetters().get(mail.id()).isPresent());
    smtpUp.set(true);

    open("dead-letters");
    By row = By.xpath("//tr[td[contains(., '" + mail.id() + "')]]");
    waitFor(row);
    Chromium.screenshot("dead-letters");
    browser.findElement(row).findElement(By.xpath(".//button[text()='Re-drive']")).click();

    // The old FAILURE stays stored until the re-driven run records its outcome.
    await().atMost(WAIT).until(() -> mail.state() == TaskState.SUCCESS);
    assertThat(mail.get(WAIT)).isEqualTo("sent to ada@example.com");
    assertThat(backend.deadLetters().get(mail.id())).isEmpty();
    new WebDriverWait(browser, WAIT).until(ExpectedConditions.invisibilityOfElementLocated(row));
  }

  @Test
  void aScheduleIsPausedAndRunNow() throws Exception {
    Schedules schedules = Schedules.create(client);
    schedules.add(
        Schedule.builder("nightly-report").task(OK, new Job("nightly")).cron("30 2 * * *").build());
    schedules.add(
        Schedule.builder("crm-sync").task("demo.ok").every(Duration.ofMinutes(15)).build());

    open("schedules");
    By row = By.cssSelector("tr[data-schedule='nightly-report']");
    waitFor(row).findElement(By.xpath(".//button[text()='Pause']")).click();
    new WebDriverWait(browser, WAIT)
        .until(ExpectedConditions.textToBePresentInElementLocated(row, "paused"));
    assertThat(schedules.get("nightly-report").orElseThrow().schedule().enabled()).isFalse();

    TaskQuery okDone = TaskQuery.builder().name("demo.ok").state(TaskState.SUCCESS).build();
    long before = backend.results().count(okDone);
    browser.findElement(row).findElement(By.xpath(".//button[text()='Run now']")).click();
    await().atMost(WAIT).until(() -> backend.results().count(okDone) > before);
    Chromium.screenshot("schedules");
  }

  @Test
  void revokePurgeAndDiscardAllAskFirstAndCancellingChangesNothing() throws Exception {
    for (int i = 0; i < 3; i++) { // no worker consumes "bulk"
      client.enqueue(OK, new Job("bulk-" + i), TaskOptions.builder().queue("bulk").build());
    }
    // A queued task (no worker has seen it) is found by id and revoked after a confirmation.
    AsyncResult<String> queued =
        client.enqueue(OK, new Job("never"), TaskOptions.builder().queue("bulk").build());
    open("tasks?id=" + queued.id());
    waitFor(By.linkText(queued.id())).click();
    waitForText(By.tagName("main"), "PENDING");
    // The task page, not the list it was found on: both show PENDING.
    waitFor(By.xpath("//button[text()='Revoke']")).click();
    dialog().accept();
    waitForText(By.tagName("main"), "REVOKED");
    assertThat(queued.state()).isEqualTo(TaskState.REVOKED);
    assertThat(queued.status().name()).isEqualTo("demo.ok");
    assertThat(browser.findElements(By.xpath("//button[text()='Revoke']"))).isEmpty();

    open("queues");
    By bulk = By.xpath("//tr[td[1][text()='bulk']]");
    waitFor(bulk);

    // A wrong name in the prompt purges nothing.
    Alert prompt = purge(bulk);
    assertThat(prompt.getText()).contains("Type the queue name to confirm");
    prompt.sendKeys("default");
    prompt.accept();
    stays(() -> backend.broker().stats("bulk").ready() == 4);

    prompt = purge(bulk);
    prompt.sendKeys("bulk");
    prompt.accept();
    await().atMost(WAIT).until(() -> backend.broker().stats("bulk").ready() == 0);
    waitForText(By.id("toast"), "purged bulk");

    for (int i = 0; i < 2; i++) {
      backend
          .deadLetters()
          .add(
              new DeadLetter(
                  "dl-exports-" + i,
                  "exports.csv",
                  "exports",
                  DeadLetterReason.FAILED,
                  TaskError.of("IOException", "bucket gone"),
                  null,
                  null,
                  "{}",
                  1,
                  java.time.Instant.now(),
                  java.time.Instant.now()));
    }
    open("dead-letters?queue=exports");
    waitForText(By.tagName("main"), "dl-exports-1");
    By discardAll = By.xpath("//button[text()='Discard all in exports']");

    waitFor(discardAll).click();
    Alert confirm = dialog();
    assertThat(confirm.getText()).isEqualTo("Discard every dead letter of exports?");
    confirm.dismiss();
    stays(() -> backend.deadLetters().count("exports") == 2);

    browser.findElement(discardAll).click();
    dialog().accept();
    await().atMost(WAIT).until(() -> backend.deadLetters().count("exports") == 0);
    waitForText(By.tagName("main"), "No dead letters.");
  }

  @Test
  void aDashboardWithATokenAsksForALoginAndLogsOut() throws Exception {
    String token = "browser-token-0123456789";
    try (Dashboard secured = Dashboard.builder(backend).port(0).token(token).build().start()) {
      Chromium.load(secured.url() + "/#/queues");
      waitFor(By.name("token")).sendKeys("not-the-token-at-all");
      browser.findElement(By.cssSelector("form button")).click();
      waitForText(By.id("login-error"), "Wrong token.");
      assertThat(browser.getPageSource()).doesNotContain("not-the-token-at-all");

      waitFor(By.name("token")).sendKeys(token);
      browser.findElement(By.cssSelector("form button")).click();
      waitFor(By.id("c-succeeded")); // in, on the overview
      org.openqa.selenium.Cookie session = browser.manage().getCookieNamed("errand_session");
      assertThat(session.getValue()).isNotEqualTo(token).doesNotContain(token);
      assertThat(session.isHttpOnly()).isTrue();
      assertThat(session.getSameSite()).isEqualTo("Strict");
      assertThat(session.getExpiry()).isNotNull();
      assertThat(Chromium.cspViolations()).isEmpty();

      waitFor(By.id("logout")).click();
      waitFor(By.name("token"));
      Chromium.load(secured.url() + "/#/overview");
      waitFor(By.name("token")); // the session ended: back to the login page
      assertThat(Chromium.cspViolations()).isEmpty();
    }
  }
}
