package dev.errand.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The executable jar started as a user starts it ({@code java -jar}), on its default embedded
 * SQLite: a report sent over HTTP is built, the dashboard serves its page and files from inside the
 * jar, and SIGTERM stops it cleanly.
 */
class ExampleJarIT {

  @TempDir Path dir;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void theJarRunsAReportServesTheDashboardAndStopsOnSigterm() throws Exception {
    Path jar = Path.of("target/errand-spring-boot-example.jar").toAbsolutePath();
    assertThat(jar).exists();
    int web = freePort();
    int dashboard = freePort();
    Path log = dir.resolve("app.log");
    Process app =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar",
                    jar.toString(),
                    "--server.port=" + web,
                    "--errand.dashboard.port=" + dashboard))
            .directory(dir.toFile()) // errand.db lands here
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> get(http, "http://127.0.0.1:" + web + "/actuator/health").contains("UP"));
      assertThat(dir.resolve("errand.db")).exists();

      String sent =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web + "/reports?days=2"))
                      .POST(HttpRequest.BodyPublishers.noBody())
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      Matcher m = Pattern.compile("\"status\":\"([^\"]+)\"").matcher(sent);
      assertThat(m.find()).as(sent).isTrue();
      String status = "http://127.0.0.1:" + web + m.group(1);
      await().atMost(Duration.ofSeconds(30)).until(() -> get(http, status).contains("SUCCESS"));
      assertThat(get(http, status)).contains("\"rows\":2000");

      String page = get(http, "http://127.0.0.1:" + dashboard + "/");
      assertThat(page).contains("<title>Errand");
      for (String file :
          List.of("/app.js", "/app.css", "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js")) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard + file)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(file).isEqualTo(200);
      }
    } finally {
      app.destroy(); // SIGTERM
      boolean exited = app.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        app.destroyForcibly();
      }
      String output = Files.readString(log);
      assertThat(exited).as(output).isTrue();
      assertThat(output).contains("Errand worker").contains("stopped");
    }
  }

  private static String get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
