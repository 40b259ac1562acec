package dev.errand.redis.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import redis.embedded.core.ExecutableProvider;

/**
 * A {@code redis-server} executable the tests can start, with its version and where it came from.
 *
 * <p>{@link #find()} takes the one bundled in {@code com.github.codemonstur:embedded-redis} (Redis
 * 6.2 for Linux and macOS, x86-64 and ARM), so that every machine tests the same, oldest supported
 * Redis, and CI covers it beside the system's Redis 7 ({@code .ci/run}). Where the bundled one does
 * not run (no build for the platform, Windows' 5.0, a C library it was not built for) it takes
 * {@code redis-server} from the {@code PATH}. Either must be Redis 6.2 or newer, the backend's
 * floor. {@value #ENV} names another executable instead ({@code .ci/run} points it at the system's
 * Redis 7, whose cluster checks the slots of every key a script touches).
 *
 * @param path the executable
 * @param version its version, as {@code redis-server --version} prints it ({@code 6.2.11})
 * @param origin where it came from, for the log line
 */
public record RedisBinary(Path path, String version, String origin) {

  /** The environment variable naming the {@code redis-server} to start instead of the bundled. */
  public static final String ENV = "ERRAND_TEST_REDIS_SERVER";

  /** The oldest Redis the backend supports (docs/redis.md). */
  static final int[] MINIMUM = {6, 2};

  private static final Pattern VERSION = Pattern.compile("v=(\\d+)\\.(\\d+)\\.(\\d+)");
  private static RedisBinary found;
  private static IllegalStateException notFound;

  /**
   * The executable to start, looked up once per JVM.
   *
   * @throws IllegalStateException when neither the bundled nor a {@code PATH} one runs here, saying
   *     why for each
   */
  public static synchronized RedisBinary find() {
    if (found == null && notFound == null) {
      List<String> reasons = new ArrayList<>();
      String given = System.getenv(ENV);
      if (given != null && !given.isBlank()) {
        found = checked(Path.of(given.strip()), "from " + ENV, reasons);
        if (found == null) {
          notFound =
              new IllegalStateException(ENV + "=" + given + ": " + String.join("; ", reasons));
        }
      } else {
        found = bundled(reasons);
      }
      if (found == null && notFound == null) {
        found = onPath(reasons);
        if (found != null) {
          // Say why, as a different Redis than on other machines is being tested.
          found =
              new RedisBinary(
                  found.path, found.version, found.origin + "; " + String.join("; ", reasons));
        }
      }
      if (found == null) {
        notFound =
            new IllegalStateException(
                "no redis-server 6.2+ to start for the tests: "
                    + String.join("; ", reasons)
                    + ". Install Redis 6.2 or newer, or point the tests at a running one with"
                    + " ERRAND_TEST_REDIS=redis://host:port/db");
      }
    }
    if (notFound != null) {
      throw notFound;
    }
    return found;
  }

  private static RedisBinary bundled(List<String> reasons) {
    String artifact = "com.github.codemonstur:embedded-redis:" + embeddedRedisVersion();
    Path path;
    try {
      // Extracted to a temporary directory that is deleted when the JVM exits.
      File file = ExecutableProvider.newJarResourceProvider().get();
      path = file.toPath();
    } catch (IOException | RuntimeException e) {
      reasons.add(artifact + " has no redis-server for this platform (" + e + ")");
      return null;
    }
    return checked(path, "bundled in " + artifact, reasons);
  }

  private static RedisBinary onPath(List<String> reasons) {
    String pathVariable = System.getenv().getOrDefault("PATH", "");
    for (String dir : pathVariable.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "redis-server");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return checked(candidate, "from the PATH", reasons);
      }
    }
    reasons.add("no redis-server on the PATH");
    return null;
  }

  /** {@code path} if it runs here and is new enough, else null with the reason added. */
  private static RedisBinary checked(Path path, String origin, List<String> reasons) {
    String output;
    try {
      Process p =
          new ProcessBuilder(path.toString(), "--version").redirectErrorStream(true).start();
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        reasons.add(path + " (" + origin + ") does not run here: " + output);
        return null;
      }
    } catch (IOException e) {
      reasons.add(path + " (" + origin + ") does not run here: " + e.getMessage());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking " + path, e);
    }
    Matcher m = VERSION.matcher(output);
    if (!m.find()) {
      reasons.add(path + " (" + origin + ") printed no version: " + output);
      return null;
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    String version = m.group(1) + "." + m.group(2) + "." + m.group(3);
    if (major < MINIMUM[0] || (major == MINIMUM[0] && minor < MINIMUM[1])) {
      reasons.add(path + " (" + origin + ") is Redis " + version + ", older than 6.2");
      return null;
    }
    return new RedisBinary(path, version, origin);
  }

  private static String embeddedRedisVersion() {
    try (InputStream in =
        ExecutableProvider.class.getResourceAsStream(
            "/META-INF/maven/com.github.codemonstur/embedded-redis/pom.properties")) {
      if (in == null) {
        return "?";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "?");
    } catch (IOException e) {
      return "?";
    }
  }

  /** For the log line: {@code redis-server 6.2.11 (bundled in ...)}. */
  @Override
  public String toString() {
    return "redis-server " + version + " (" + origin + ")";
  }
}
