package dev.errand.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.Event;
import dev.errand.EventType;
import dev.errand.TaskError;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.WorkerInfo;
import dev.errand.memory.InMemoryBackend;
import dev.errand.scheduler.Schedule;
import dev.errand.scheduler.Schedules;
import dev.errand.wire.Wire;
import dev.errand.workflow.Signature;
import dev.errand.workflow.Workflows;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;

/**
 * The XSS regression suite: every string a user or a message controls (task names, ids, arguments,
 * results, progress, errors, tracebacks, queue, worker and schedule names, event details, URL
 * parameters) holds a payload, every page and detail view is opened in one browser session, and no
 * payload may run, become an element, or trip the Content-Security-Policy; each must show as text.
 * The policy alone would stop the payloads from running, so the suite checks for injected elements
 * and policy violations too: it fails if any value reaches the page as markup.
 */
class DashboardXssIT {

  /** Each payload sets {@code window.__xss} if it ever runs. */
  static final String IMG = "<img src=x onerror=window.__xss=1>";

  static final String SVG = "\"><svg/onload=window.__xss=2>"; // no white space: fits names

  static final String SCRIPT = "</pre></td><script>window.__xss=3</script>";

  static final String QUOTE = "'\"><img/src/onerror=window.__xss=4>";

  static final String LINK = "javascript:window.__xss=5";

  static final String TASK_ID = "t" + SVG;
  static final String CHILD_ID = LINK;
  static final String QUEUE = "q" + SVG;
  static final String NAME = "x" + QUOTE.replace(" ", "");
  static final String WORKER = "w" + IMG;

  static InMemoryBackend backend;
  static Dashboard dashboard;
  static WebDriver browser;
  static String workflowId;

  @BeforeAll
  static void start() {
    browser = Chromium.driver();
    backend = new InMemoryBackend(Clock.systemUTC());
    dashboard = Dashboard.builder(backend).port(0).build().start();
    store();
  }

  @AfterAll
  static void stop() {
    if (dashboard != null) dashboard.close();
    if (backend != null) backend.close();
  }

  static ObjectNode payloads() {
    ObjectNode o = Wire.mapper().createObjectNode();
    o.put("img", IMG).put("svg", SVG).put("script", SCRIPT).put(IMG, QUOTE).put("link", LINK);
    return o;
  }

  static void store() {
    Instant now = Instant.now();
    TaskError error = new TaskError(IMG, SCRIPT, QUOTE + "\n\tat " + SVG);
    TaskStatus failed =
        new TaskStatus(
                TASK_ID,
                NAME,
                TaskState.FAILURE,
                QUEUE,
                null,
                error,
                payloads(),
                IMG,
                2,
                WORKER,
                now.minusSeconds(60),
                now.minusSeconds(5),
                now.minusSeconds(4),
                null,
                now.minusSeconds(4))
            .withCall(
                null,
                Wire.mapper().createObjectNode().set("kwargs", payloads()),
                List.of(new TaskStatus.Retry(1, now.minusSeconds(30), error)));
    TaskStatus child =
        new TaskStatus(
                CHILD_ID,
                NAME,
                TaskState.PROGRESS,
                QUEUE,
                payloads(),
                null,
                payloads().put("current", 3).put("total", 10),
                null,
                1,
                WORKER,
                now.minusSeconds(3),
                now.minusSeconds(2),
                null,
                null,
                now.minusSeconds(2))
            .withCall(TASK_ID, Wire.mapper().createArrayNode().add(SCRIPT), null);
    backend.results().putAll(List.of(failed, child), Duration.ofHours(1));
    backend
        .events()
        .publish(
            List.of(
                new Event(
                    0,
                    EventType.TASK_STARTED,
                    now.minusSeconds(5),
                    TASK_ID,
                    NAME,
                    WORKER,
                    QUEUE,
                    null),
                new Event(
                    0,
                    EventType.TASK_RETRIED,
                    now.minusSeconds(5),
                    TASK_ID,
                    NAME,
                    WORKER,
                    QUEUE,
                    Wire.mapper()
                        .createObjectNode()
                        .put("error", IMG)
                        .put("eta", SVG)
                        .put("reason", SCRIPT)
                        .put("runtimeMs", QUOTE))));
    backend
        .deadLetters()
        .add(
            new DeadLetter(
                TASK_ID,
                NAME,
                QUEUE,
                DeadLetterReason.FAILED,
                error,
                Wire.mapper().createArrayNode().add(IMG),
                payloads(),
                SCRIPT,
                3,
                now,
                now));
    backend
        .workers()
        .heartbeat(
            new WorkerInfo(
                WORKER,
                IMG,
                7,
                List.of(QUEUE, SVG),
                4,
                SCRIPT,
                now.minusSeconds(60),
                now,
                List.of(new WorkerInfo.RunningTask(CHILD_ID, IMG, now.minusSeconds(2))),
                1,
                1,
                false),
            Duration.ofMinutes(5));
    Client client = Client.create(backend);
    client.send("xss.ready", payloads(), TaskOptions.builder().queue(QUEUE).build());
    // A workflow whose tasks have hostile names; nothing consumes its queue, so it waits.
    workflowId =
        client
            .send(
                Workflows.chain(
                    Signature.byName(NAME, payloads())
                        .options(TaskOptions.builder().queue(QUEUE).build()),
                    Signature.byName("w" + SVG, null)))
            .id();
    Schedules.create(client)
        .add(
            Schedule.builder("javascript:alert")
                .task(NAME)
                .every(Duration.ofHours(1))
                .queue(QUEUE)
                .args(Wire.mapper().createArrayNode().add(IMG), payloads())
                .build());
  }

  /**
   * Opens {@code hash}, checks nothing was injected once the page is drawn, and that {@code shown}
   * is in {@code where} as text.
   */
  static void visit(String hash, By where, String shown) {
    Chromium.load(dashboard.url() + "/#/" + hash);
    Chromium.waitFor(By.cssSelector("main h1"));
    assertNothingInjected(hash);
    Chromium.waitForText(where, shown);
    assertNothingInjected(hash);
  }

  static void assertNothingInjected(String where) {
    assertThat(Chromium.script("return typeof window.__xss"))
        .as(where + ": a payload ran")
        .isEqualTo("undefined");
    assertThat(
            Chromium.script(
                "return document.querySelectorAll('body img, body svg, body iframe, main script,"
                    + " #banner script').length"))
        .as(where + ": elements from payloads")
        .isEqualTo(0L);
    assertThat(
            Chromium.script(
                "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
                    + ".filter(h => !/^(#|\\/(?!\\/))/.test(h))"))
        .as(where + ": links leaving the dashboard")
        .asList()
        .isEmpty();
    assertThat(Chromium.cspViolations()).as(where + ": policy violations").isEmpty();
  }

  static String param(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Test
  void noPayloadRunsOnAnyPageAndEachShowsAsText() {
    By main = By.tagName("main");
    // Values from the URL: parameters and the route itself. First the link of the finding: a range
    // that ends the API's query string early, so the API accepted it and the page showed it raw.
    visit("overview?range=hour" + param("&" + IMG), By.id("error"), IMG);
    visit("overview?range=" + param(IMG), By.id("error"), IMG);
    visit("tasks?name=" + param(SVG) + "&queue=" + param(IMG), main, "No tasks.");
    assertThat(browser.findElement(By.name("name")).getAttribute("value")).isEqualTo(SVG);
    visit("tasks?state=" + param(SCRIPT), By.id("error"), SCRIPT);
    visit("tasks/" + param(IMG), By.id("error"), IMG);
    visit("dead-letters?queue=" + param(QUOTE), main, "No dead letters.");
    assertThat(browser.findElement(By.name("queue")).getAttribute("value")).isEqualTo(QUOTE);
    visit("queues?q=" + param(SVG), main, "Queues");
    visit(param(IMG) + "?range=" + param(SCRIPT), By.id("error"), SCRIPT);
    visit("workflows/" + param(IMG) + "?all=" + param(SVG), By.id("error"), IMG);
    visit("workflows/" + param(QUOTE), By.id("error"), QUOTE);
    visit("workflows?id=" + param(SCRIPT), main, "Workflows");

    // Values from the backend, on every page and detail view.
    visit("overview", main, NAME);
    assertThat(browser.findElement(main).getText()).contains(QUEUE, WORKER, IMG, SCRIPT);
    visit("queues", main, QUEUE);
    visit("workers", main, WORKER);
    visit("tasks", main, NAME);
    visit("tasks/" + param(TASK_ID), By.id("traceback"), QUOTE);
    assertThat(browser.findElement(main).getText())
        .contains(IMG, SVG, SCRIPT, QUOTE)
        .contains("\"img\": \"" + IMG + "\"");
    assertThat(browser.findElement(By.id("timeline")).getText()).contains(IMG, SCRIPT);
    // The child's id is a javascript: URL; its link stays a route inside the dashboard.
    browser.findElement(By.linkText(CHILD_ID)).click();
    Chromium.waitForText(By.id("result"), SCRIPT);
    assertNothingInjected("child task");
    visit("dead-letters", main, SCRIPT);
    visit("schedules", main, "javascript:alert");
    visit("workflows/" + param(workflowId), By.id("workflow-steps"), NAME);
    assertThat(browser.findElement(By.id("workflow-summary")).getText()).contains(NAME);
    assertThat(browser.findElement(By.id("workflow-steps")).getText()).contains("w" + SVG);
    visit("tasks/" + param(workflowId), By.id("workflow-link"), "see the whole workflow");
  }
}
