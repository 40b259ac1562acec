package dev.errand.dashboard;

import static dev.errand.workflow.Workflows.chord;
import static dev.errand.workflow.Workflows.group;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.spi.Backend;
import dev.errand.sqlite.SqliteBackend;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
import dev.errand.workflow.Chain;
import dev.errand.workflow.Signature;
import dev.errand.workflow.WorkflowState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/**
 * The workflow page in a real headless Chromium ({@link Chromium}), against a SQLite backend with a
 * running worker: a workflow's tasks in order with the one holding it up, a large group counted per
 * state, revoking it, and the way there from a task's page. Leaves the screenshots {@code
 * workflow.png} and {@code workflow-group.png} ({@link Chromium#SHOTS}).
 */
class DashboardWorkflowIT {

  static final Duration WAIT = Chromium.WAIT;
  static final TaskOptions NO_RETRY = TaskOptions.builder().retry(RetryPolicy.none()).build();

  /** No worker consumes this queue: what is sent to it waits. */
  static final TaskOptions PARKED = TaskOptions.builder().queue("parked").build();

  record Part(int n) {}

  static final TaskDef<Part, Integer> EXPORT_PART =
      TaskDef.of("exports.part", Part.class, Integer.class);
  static final TaskDef<Part, Integer> FLAKY_PART =
      TaskDef.builder("exports.flaky_part", Part.class, Integer.class).options(NO_RETRY).build();

  @SuppressWarnings({"rawtypes", "unchecked"})
  static final TaskDef<List, Integer> BUILD_FILE =
      TaskDef.of("exports.build_file", List.class, Integer.class);

  static final TaskDef<Integer, String> NOTIFY =
      TaskDef.of("exports.notify", Integer.class, String.class);

  @TempDir static Path dir;
  static Backend backend;
  static Client client;
  static Worker worker;
  static Dashboard dashboard;
  static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    browser = Chromium.driver();
    backend = SqliteBackend.open(dir.resolve("workflows.db"), java.time.Clock.systemUTC());
    client = Client.create(backend);
    worker =
        Worker.builder(backend)
            .handle(EXPORT_PART, (p, ctx) -> p.n() * 10)
            .handle(
                FLAKY_PART,
                (p, ctx) -> {
                  throw new IOException("bucket exports-eu is read-only");
                })
            .handle(
                BUILD_FILE,
                (parts, ctx) -> parts.stream().mapToInt(o -> ((Number) o).intValue()).sum())
            .handle(NOTIFY, (total, ctx) -> "sent " + total)
            .options(
                WorkerOptions.builder().concurrency(4).pollInterval(Duration.ofMillis(50)).build())
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

  static void open(String hash) {
    assertThat(Chromium.cspViolations()).as("Content-Security-Policy violations").isEmpty();
    Chromium.load(dashboard.url() + "/#/" + hash);
  }

  static String text(By by) {
    return browser.findElement(by).getText();
  }

  static List<String> rows() {
    return browser.findElements(By.cssSelector("#workflow-steps tbody tr")).stream()
        .map(WebElement::getText)
        .toList();
  }

  @Test
  void aStoppedWorkflowShowsEveryTaskInOrderWithTheOneWhereItStopped() throws Exception {
    AsyncResult<String> r =
        client.send(
            chord(
                group(
                    Signature.of(EXPORT_PART, new Part(1)),
                    Signature.of(FLAKY_PART, new Part(2)),
                    Signature.of(EXPORT_PART, new Part(3))),
                Chain.of(Signature.receiving(BUILD_FILE)).then(NOTIFY)));
    assertThatThrownBy(() -> r.get(WAIT)).hasMessageContaining("ChordFailed");
    WorkflowState w = client.workflow(r.id()).orElseThrow();
    String failed = w.steps().get(1).taskId();

    open("workflows/" + r.id());
    Chromium.waitForText(By.id("workflow-summary"), "Stopped");

    assertThat(text(By.id("workflow-summary")))
        .isEqualTo("Stopped at 1.2 exports.flaky_part (" + failed + "): FAILURE");
    assertThat(text(By.id("workflow-counts"))).isEqualTo("5 tasks: 2 SUCCESS, 3 FAILURE");
    assertThat(rows())
        .containsExactly(
            "1.1 exports.part member SUCCESS " + w.steps().get(0).taskId(),
            "1.2 exports.flaky_part member FAILURE " + failed + " stopped here",
            "1.3 exports.part member SUCCESS " + w.steps().get(2).taskId(),
            "2 exports.build_file callback FAILURE " + w.steps().get(3).taskId(),
            "3 exports.notify step FAILURE " + r.id());
    WebElement stoppedRow = browser.findElement(By.cssSelector("tr.blocking"));
    assertThat(stoppedRow.getAttribute("class")).contains("stopped");
    assertThat(stoppedRow.getAttribute("data-task")).isEqualTo(failed);
    assertThat(browser.findElements(By.xpath("//button[text()='Revoke workflow']")))
        .as("nothing left to revoke")
        .isEmpty();
    Chromium.screenshot("workflow");

    // From the failed member to its page, and from the workflow's last task back to the workflow.
    browser.findElement(By.linkText(failed)).click();
    Chromium.waitForText(By.id("traceback"), "bucket exports-eu is read-only");
    assertThat(browser.findElements(By.id("workflow-link"))).as("a member's id").isEmpty();
    open("tasks/" + r.id());
    Chromium.waitFor(By.id("workflow-link")).click();
    Chromium.waitForText(By.id("workflow-summary"), "Stopped at 1.2");
  }

  @Test
  void aLargeGroupIsCountedPerStateAndTheWorkflowIsRevokedAfterAConfirmation() throws Exception {
    // 30 parts: 25 run, 5 wait on a queue nobody consumes, so the callback waits too.
    List<Signature<Integer>> parts = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      Signature<Integer> part = Signature.of(EXPORT_PART, new Part(i));
      parts.add(i < 25 ? part : part.options(PARKED));
    }
    AsyncResult<Integer> r = client.send(chord(group(parts), BUILD_FILE));
    await()
        .atMost(WAIT)
        .until(
            () ->
                client.workflow(r.id()).orElseThrow().steps().stream()
                        .filter(s -> s.state() == TaskState.SUCCESS)
                        .count()
                    == 25);
    WorkflowState w = client.workflow(r.id()).orElseThrow();
    WorkflowState.Step waiting = w.steps().get(25);

    open("workflows/" + r.id());
    Chromium.waitForText(By.id("workflow-summary"), "Waiting");

    assertThat(text(By.id("workflow-summary")))
        .isEqualTo("Waiting on 1.26 exports.part (" + waiting.taskId() + "): PENDING");
    assertThat(text(By.id("workflow-counts"))).isEqualTo("31 tasks: 6 PENDING, 25 SUCCESS");
    assertThat(rows())
        .containsExactly(
            "1.* exports.part member PENDING 5 tasks",
            "1.* exports.part member SUCCESS 25 tasks",
            "1.26 exports.part member PENDING " + waiting.taskId() + " holding it up",
            "2 exports.build_file callback PENDING " + r.id());
    Chromium.screenshot("workflow-group");

    browser.findElement(By.id("list-all")).click();
    Chromium.waitFor(By.id("list-counts"));
    assertThat(rows()).hasSize(31).element(25).asString().endsWith("holding it up");

    browser.findElement(By.xpath("//button[text()='Revoke workflow']")).click();
    org.openqa.selenium.Alert confirm = Chromium.dialog();
    assertThat(confirm.getText())
        .isEqualTo(
            "Revoke workflow "
                + r.id()
                + "? Its 6 unfinished tasks will not run; a running one is cancelled.");
    confirm.accept();
    Chromium.waitForText(By.id("toast"), "revoked 6 of 31 tasks");
    Chromium.waitForText(By.id("workflow-summary"), "Stopped at 1.26");
    assertThat(client.workflow(r.id()).orElseThrow().steps())
        .filteredOn(s -> s.state() == TaskState.REVOKED)
        .hasSize(6);
    assertThat(browser.findElements(By.xpath("//button[text()='Revoke workflow']"))).isEmpty();
  }

  @Test
  void aChainNotFinishedIsFoundFromItsIdOnTheTaskPageAndTheLookup() {
    // A chain's id is its last task's, which is not sent until the step before it has run.
    AsyncResult<String> r =
        client.send(Chain.of(Signature.of(EXPORT_PART, new Part(7)).options(PARKED)).then(NOTIFY));

    open("tasks/" + r.id());
    Chromium.waitFor(By.id("workflow-link"));
    assertThat(text(By.tagName("main"))).contains("This task has not been sent yet");
    browser.findElement(By.id("workflow-link")).click();
    Chromium.waitForText(By.id("workflow-summary"), "Waiting on 1 exports.part");

    open("workflows");
    Chromium.waitFor(By.name("id")).sendKeys(r.id());
    browser.findElement(By.cssSelector("#workflow-lookup button")).click();
    Chromium.waitForText(By.id("workflow-summary"), "Waiting on 1 exports.part");
    assertThat(rows()).last().asString().startsWith("2 exports.notify step PENDING " + r.id());

    client.revokeWorkflow(r.id());
  }
}
