package dev.errand.dashboard.internal;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The page's own files (the single-page app and uPlot's), read from the class path once at start-up
 * and served from memory under fixed paths.
 *
 * <p>Not Javalin's class-path static files: those are mounted through Jetty's resource factory,
 * which cannot open a jar inside a jar, so a dashboard inside a Spring Boot executable jar answered
 * every file with 404. A fixed list also means no path from a request ever reaches a resource
 * lookup. Thread-safe (immutable).
 */
final class UiFiles {

  private static final String UI = "/dev/errand/dashboard/ui/";
  private static final String UPLOT = "/META-INF/resources/webjars/uplot/";

  /** The uPlot webjar's version, which index.html names in its paths. */
  static final String UPLOT_VERSION = uplotVersion();

  /** Where uPlot's files are served, as index.html names them. */
  static final String UPLOT_PATH = "/webjars/uplot/" + UPLOT_VERSION + "/dist/";

  private record File(byte[] bytes, String contentType) {}

  private final Map<String, File> files = new LinkedHashMap<>();

  UiFiles() {
    add("/", UI + "index.html", "text/html; charset=utf-8");
    add("/index.html", UI + "index.html", "text/html; charset=utf-8");
    add("/app.css", UI + "app.css", "text/css; charset=utf-8");
    add("/app.js", UI + "app.js", "text/javascript; charset=utf-8");
    add("/dom.js", UI + "dom.js", "text/javascript; charset=utf-8");
    add("/workflow.js", UI + "workflow.js", "text/javascript; charset=utf-8");
    String dist = UPLOT + UPLOT_VERSION + "/dist/";
    add(UPLOT_PATH + "uPlot.min.css", dist + "uPlot.min.css", "text/css; charset=utf-8");
    add(
        UPLOT_PATH + "uPlot.iife.min.js",
        dist + "uPlot.iife.min.js",
        "text/javascript; charset=utf-8");
  }

  private void add(String path, String resource, String contentType) {
    try (InputStream in = UiFiles.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the class path");
      }
      files.put(path, new File(in.readAllBytes(), contentType));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }

  private static String uplotVersion() {
    String props = "/META-INF/maven/org.webjars.npm/uplot/pom.properties";
    try (InputStream in = UiFiles.class.getResourceAsStream(props)) {
      if (in == null) {
        throw new IllegalStateException(
            props + " is missing: is the uPlot webjar on the class path?");
      }
      java.util.Properties p = new java.util.Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + props, e);
    }
  }

  /** The paths served. */
  Iterable<String> paths() {
    return files.keySet();
  }

  /** Answers {@code ctx} with the file at its path (registered for exactly these paths). */
  void serve(Context ctx) {
    File f = files.get(ctx.path());
    if (f == null) {
      ctx.status(HttpStatus.NOT_FOUND);
      return;
    }
    // The page changes with each Errand version: always revalidate rather than cache stale code.
    ctx.header("Cache-Control", "no-cache");
    ctx.contentType(f.contentType()).result(f.bytes());
  }
}
