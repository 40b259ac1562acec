package dev.errand.dashboard;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * One headless Chromium (Debian's {@code chromium} and {@code chromedriver}, which {@code .ci/run}
 * installs) shared by every browser test of the run, started on first use and quit when the JVM
 * exits. Every page it opens records Content-Security-Policy violations, so a test can check that
 * the page works under the policy and that nothing injected tried to run.
 */
final class Chromium {

  static final String CHROMIUM = System.getProperty("errand.chromium", "/usr/bin/chromium");
  static final String CHROMEDRIVER =
      System.getProperty("errand.chromedriver", "/usr/bin/chromedriver");
  static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * Where {@link #screenshot} writes: {@code target/screenshots}, or the directory {@code
   * -Derrand.screenshots} names. {@code -Derrand.screenshots=../docs/dashboard} refreshes the docs'
   * pictures; by default a test run leaves the sources as they were.
   */
  static final Path SHOTS = Path.of(System.getProperty("errand.screenshots", "target/screenshots"));

  private static ChromeDriver driver;
  private static boolean toldNotRun;

  private Chromium() {}

  /**
   * The browser; skips the calling test where Chromium is not installed, and says so once per run
   * in the build's output (a skipped {@code @BeforeAll} counts as no test at all in Maven's
   * figures).
   */
  static synchronized ChromeDriver driver() {
    boolean installed =
        Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(CHROMEDRIVER));
    String notRun =
        "the browser tests (DashboardBrowserIT, DashboardOperatorIT, DashboardWorkflowIT,"
            + " DashboardXssIT) did not run:"
            + " they need "
            + CHROMIUM
            + " and "
            + CHROMEDRIVER
            + " (Debian: apt-get install chromium chromium-driver; elsewhere"
            + " -Derrand.chromium=PATH -Derrand.chromedriver=PATH)";
    if (!installed && !toldNotRun) {
      toldNotRun = true;
      System.out.println("[errand-test] " + notRun);
    }
    assumeTrue(installed, notRun);
    if (driver == null) {
      ChromeOptions options = new ChromeOptions();
      options.setBinary(CHROMIUM);
      options.addArguments(
          "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,1000");
      driver =
          new ChromeDriver(
              new ChromeDriverService.Builder()
                  .usingDriverExecutable(Path.of(CHROMEDRIVER).toFile())
                  .build(),
              options);
      // Before any script of the page runs, so a violation at load time is seen too.
      driver.executeCdpCommand(
          "Page.addScriptToEvaluateOnNewDocument",
          Map.of(
              "source",
              "window.__csp = [];"
                  + "document.addEventListener('securitypolicyviolation', e =>"
                  + " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' '"
                  + " + (e.sample || '')));"));
      ChromeDriver started = driver;
      Runtime.getRuntime().addShutdownHook(new Thread(started::quit, "chromium-quit"));
    }
    return driver;
  }

  /** Opens {@code url} as a new page load (a hash change alone would keep the old page). */
  static void load(String url) {
    driver().get("about:blank");
    driver().get(url);
  }

  static Object script(String js, Object... args) {
    return ((JavascriptExecutor) driver()).executeScript(js, args);
  }

  /** The policy violations the current page has seen. */
  @SuppressWarnings("unchecked")
  static List<String> cspViolations() {
    Object v = script("return window.__csp || []");
    return (List<String>) v;
  }

  static WebElement waitFor(By by) {
    return new WebDriverWait(driver(), WAIT)
        .until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  static void waitForText(By by, String text) {
    new WebDriverWait(driver(), WAIT)
        .until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  /** The alert, confirm or prompt the page opened. */
  static Alert dialog() {
    return new WebDriverWait(driver(), WAIT).until(ExpectedConditions.alertIsPresent());
  }

  /** Saves the page as {@code NAME.png} in {@link #SHOTS}, without the toast an action left. */
  static void screenshot(String name) throws IOException {
    script("document.getElementById('toast').hidden = true");
    Path shot = driver().getScreenshotAs(OutputType.FILE).toPath();
    Files.createDirectories(SHOTS);
    Files.copy(shot, SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }
}
