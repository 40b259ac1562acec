package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.wire.Wire;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * What an operator sees when things go wrong or get big: a backend that stops answering, 200
 * queues, names too long for a table.
 */
class DashboardOperatorIT {

  static final String LONG_NAME = "reports.quarterly." + "x".repeat(180);
  static final String LONG_ID = "id-" + "0123456789".repeat(12);
  static final String LONG_QUEUE = "exports-" + "y".repeat(150);

  static FakeOutageBackend backend;
  static Dashboard dashboard;
  static WebDriver browser;

  @BeforeAll
  static void start() {
    browser = Chromium.driver();
    backend = new FakeOutageBackend(Clock.systemUTC());
    dashboard = Dashboard.builder(backend).port(0).build().start();
    Client client = Client.create(backend);
    for (int i = 1; i <= 200; i++) {
      client.send(
          "demo.ok",
          Wire.mapper().createObjectNode(),
          TaskOptions.builder().queue("q" + i).build());
    }
    for (int i = 0; i < 30; i++) {
      client.send(
          "demo.ok", Wire.mapper().createObjectNode(), TaskOptions.builder().queue("q7").build());
    }
    client.send(
        "demo.ok",
        Wire.mapper().createObjectNode(),
        TaskOptions.builder().queue(LONG_QUEUE).build());
    Instant now = Instant.now();
    backend
        .results()
        .putAll(
            List.of(
                new TaskStatus(
                    LONG_ID,
                    LONG_NAME,
                    TaskState.FAILURE,
                    LONG_QUEUE,
                    null,
                    new TaskError("java.io.IOException", "z".repeat(300), "at " + "w".repeat(400)),
                    null,
                    null,
                    1,
                    LONG_NAME,
                    now,
                    now,
                    now,
                    null,
                    now)),
            Duration.ofHours(1));
    backend
        .deadLetters()
        .add(
            new DeadLetter(
                LONG_ID,
                LONG_NAME,
                LONG_QUEUE,
                DeadLetterReason.FAILED,
                TaskError.of("X", "v".repeat(300)),
                null,
                null,
                "{}",
                1,
                now,
                now));
    backend
        .workers()
        .heartbeat(
            new WorkerInfo(
                "worker-" + "n".repeat(120),
                "host-" + "h".repeat(120),
                1,
                IntStream.rangeClosed(1, 40).mapToObj(i -> "q" + i).toList(),
                4,
                "threads",
                now,
                now,
                List.of(new WorkerInfo.RunningTask(LONG_ID, LONG_NAME, now)),
                0,
                0,
                true),
            Duration.ofMinutes(10));
  }

  @AfterAll
  static void stop() {
    if (dashboard != null) dashboard.close();
    if (backend != null) backend.close();
  }

  @AfterEach
  void ranUnderThePolicy() {
    backend.up();
    browser.manage().window().setSize(new Dimension(1440, 1000));
    assertThat(Chromium.cspViolations()).as("Content-Security-Policy violations").isEmpty();
  }

  static void open(String hash) {
    Chromium.load(dashboard.url() + "/#/" + hash);
    Chromium.waitFor(By.cssSelector("main h1"));
  }

  static List<String> firstColumn() {
    return browser.findElements(By.cssSelector("main tbody tr td:first-child")).stream()
        .map(WebElement::getText)
        .toList();
  }

  static void until(java.util.function.Function<WebDriver, Boolean> condition) {
    new WebDriverWait(browser, Chromium.WAIT).until(condition::apply);
  }

  @Test
  void whileTheBackendIsDownTheDotIsRedAndTheFiguresAreMarkedStale() throws IOException {
    open("overview");
    until(d -> d.findElement(By.id("live")).getAttribute("class").contains("on"));
    String ready = browser.findElement(By.cssSelector("main .cards")).getText();

    backend.down();
    until(d -> d.findElement(By.id("live")).getAttribute("class").contains("down"));
    WebElement banner = browser.findElement(By.id("banner"));
    until(d -> banner.isDisplayed());
    assertThat(banner.getText())
        .startsWith("The backend is not answering since ")
        .contains("no answer within 2000 ms", "The figures below are from", "may be stale");
    assertThat(browser.findElement(By.tagName("main")).getAttribute("class")).contains("stale");
    assertThat(browser.findElement(By.cssSelector("main .cards")).getText()).isEqualTo(ready);
    Chromium.screenshot("outage");

    backend.up();
    until(d -> d.findElement(By.id("live")).getAttribute("class").contains("on"));
    until(d -> !d.findElement(By.id("banner")).isDisplayed());
    assertThat(browser.findElement(By.tagName("main")).getAttribute("class"))
        .doesNotContain("stale");
  }

  @Test
  void twoHundredQueuesAreSortedNaturallyAndTheOverviewShowsTheBusiest() {
    open("overview");
    Chromium.waitFor(By.id("all-queues"));
    List<String> busiest = firstColumn().subList(0, 10);
    assertThat(busiest.get(0)).isEqualTo("q7"); // 31 ready
    assertThat(browser.findElement(By.id("all-queues")).getText()).isEqualTo("All 201 queues →");

    browser.findElement(By.id("all-queues")).click();
    Chromium.waitForText(By.cssSelector("main h1"), "(201)");
    assertThat(firstColumn().stream().filter(q -> q.matches("q\\d+")).toList().subList(0, 12))
        .containsExactly("q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12");

    browser.findElement(By.name("q")).sendKeys("q19");
    browser.findElement(By.cssSelector("#queue-filter button")).click();
    Chromium.waitForText(By.cssSelector("main h1"), "(11 of 201)");
    assertThat(firstColumn())
        .containsExactly(
            "q19", "q190", "q191", "q192", "q193", "q194", "q195", "q196", "q197", "q198", "q199");
  }

  @Test
  void longNamesAndIdsDoNotWidenThePage() {
    browser.manage().window().setSize(new Dimension(1024, 800));
    String id = LONG_ID.substring(0, 30);
    for (List<String> page :
        List.of(
            List.of("overview", id),
            List.of("queues", LONG_QUEUE.substring(0, 30)),
            List.of("workers", id),
            List.of("tasks", id),
            List.of("tasks/" + LONG_ID, "w".repeat(30)),
            List.of("dead-letters", id))) {
      open(page.get(0));
      Chromium.waitForText(By.tagName("main"), page.get(1));
      Object overflow =
          Chromium.script(
              "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assertThat(((Number) overflow).intValue())
          .as(page.get(0) + ": pixels wider than the window")
          .isLessThanOrEqualTo(0);
    }
  }
}
