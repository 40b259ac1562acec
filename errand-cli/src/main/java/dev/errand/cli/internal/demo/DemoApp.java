package dev.errand.cli.internal.demo;

import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.worker.ErrandApp;
import dev.errand.worker.TaskRegistry;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The sample app of {@code errand demo}: the kinds of work teams move out of web requests, each
 * showing one guarantee.
 */
public final class DemoApp implements ErrandApp {

  /** An email to send. */
  public record Email(String to, String subject) {}

  /** A CSV export of {@code rows} rows. */
  public record Export(String name, int rows) {}

  /** A report that takes {@code seconds} to build. */
  public record Report(String name, int seconds) {}

  /** A thumbnail to render. */
  public record Thumbnail(String image, int priority) {}

  /** Flaky on purpose: about a third of attempts fail and retry with backoff. */
  public static final TaskDef<Email, String> SEND_EMAIL =
      TaskDef.builder("emails.send", Email.class, String.class)
          .options(
              TaskOptions.builder()
                  .queue("email")
                  .retry(
                      RetryPolicy.builder()
                          .maxRetries(4)
                          .backoff(Duration.ofMillis(300))
                          .backoffMax(Duration.ofSeconds(3))
                          .retryOn(IOException.class)
                          .build())
                  .build())
          .build();

  /** Writes a file and reports progress as it goes. */
  public static final TaskDef<Export, Map<String, Object>> EXPORT_CSV =
      TaskDef.<Export, Map<String, Object>>builder(
              "exports.csv",
              Export.class,
              new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {})
          .options(TaskOptions.builder().queue("default").build())
          .build();

  /** Slower than its soft time limit: interrupted, cleans up, reports the limit. */
  public static final TaskDef<Report, String> SLOW_REPORT =
      TaskDef.builder("reports.slow", Report.class, String.class)
          .options(
              TaskOptions.builder()
                  .softTimeLimit(Duration.ofSeconds(2))
                  .hardTimeLimit(Duration.ofSeconds(10))
                  .retry(RetryPolicy.none())
                  .build())
          .build();

  /** Quick work sent in a burst at two priorities. */
  public static final TaskDef<Thumbnail, String> THUMBNAIL =
      TaskDef.of("images.thumbnail", Thumbnail.class, String.class);

  private final Path exportDir;

  /** The demo app writing exports into {@code exportDir}. */
  public DemoApp(Path exportDir) {
    this.exportDir = exportDir;
  }

  /** The demo app writing exports into {@code ./errand-demo-exports}. */
  public DemoApp() {
    this(Path.of("errand-demo-exports"));
  }

  @Override
  public void register(TaskRegistry tasks) {
    tasks.handle(
        SEND_EMAIL,
        (mail, ctx) -> {
          Thread.sleep(ThreadLocalRandom.current().nextInt(100, 400)); // an SMTP round trip
          if (ThreadLocalRandom.current().nextInt(100) < 35) {
            throw new IOException(
                "SMTP 421 " + mail.to().replaceAll("@.*", "@mail") + " busy, try later");
          }
          return "250 OK queued as " + ctx.id().substring(24);
        });
    tasks.handle(EXPORT_CSV, (export, ctx) -> export(export, ctx));
    tasks.handle(
        SLOW_REPORT,
        (report, ctx) -> {
          Path partial = Files.createTempFile("errand-report-", ".tmp");
          try {
            for (int s = 0; s < report.seconds() * 10; s++) {
              ctx.checkCancelled(); // throws SoftTimeLimitExceeded once the soft limit passes
              Thread.sleep(100);
            }
            return report.name() + " done";
          } catch (InterruptedException e) {
            ctx.checkCancelled();
            throw e;
          } finally {
            Files.deleteIfExists(partial); // the cleanup a soft limit gives time for
          }
        });
    tasks.handle(
        THUMBNAIL,
        (t, ctx) -> {
          Thread.sleep(25);
          return t.image().replace(".png", "-128.png");
        });
  }

  private Map<String, Object> export(Export export, dev.errand.worker.TaskContext ctx)
      throws IOException, InterruptedException {
    Files.createDirectories(exportDir);
    Path file = exportDir.resolve(export.name() + ".csv");
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      out.write("id,customer,amount_cents\n");
      for (int i = 1; i <= export.rows(); i++) {
        out.write(i + ",customer-" + (i % 97) + "," + (i * 137 % 10_000) + "\n");
        if (i % 500 == 0) {
          ctx.progress(i, export.rows());
          Thread.sleep(100); // a real export waits on its database here
        }
      }
    }
    ctx.progress(export.rows(), export.rows());
    return Map.of("file", file.toAbsolutePath().toString(), "rows", export.rows());
  }
}
