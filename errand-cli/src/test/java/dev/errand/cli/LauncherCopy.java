package dev.errand.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A copy of the launcher {@code ./errand} beside a copy of the built jar
 * (errand-cli/target/errand.jar, made by {@code package} before the ITs) in a directory of a test's
 * own, so that the launcher never builds and its class-data archive is the test's.
 */
final class LauncherCopy {

  final Path dir;
  final Path launcher;
  final Path jar;

  private LauncherCopy(Path dir, Path launcher, Path jar) {
    this.dir = dir;
    this.launcher = launcher;
    this.jar = jar;
  }

  /** Copies the launcher and the jar into {@code dir}; skips the test where they cannot run. */
  static LauncherCopy in(Path dir) throws IOException {
    Path built = Path.of("target", "errand.jar");
    assumeTrue(Files.isRegularFile(built), "needs the shaded jar: mvn package");
    assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash");
    Path launcher = dir.resolve("errand");
    Files.copy(Path.of("..", "errand"), launcher, StandardCopyOption.COPY_ATTRIBUTES);
    Path jar = dir.resolve("errand-cli/target/errand.jar");
    Files.createDirectories(jar.getParent());
    Files.copy(built, jar);
    return new LauncherCopy(dir, launcher, jar);
  }

  /**
   * {@code ./errand args} run by this JDK, in {@link #dir}, without the JVM options of the test's
   * environment, with {@code env} added.
   */
  ProcessBuilder builder(Map<String, String> env, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of("/bin/bash", launcher.toString()));
    cmd.addAll(args);
    ProcessBuilder b = new ProcessBuilder(cmd).directory(dir.toFile());
    for (String name : List.of("ERRAND_JAVA_OPTS", "ERRAND_CDS", "JDK_JAVA_OPTIONS")) {
      b.environment().remove(name);
    }
    b.environment().put("JAVA_HOME", System.getProperty("java.home")); // this JDK
    // The supervisor's directory, where a shell killed by a test leaves it: deleted with the
    // test's.
    b.environment().put("TMPDIR", dir.toString());
    b.environment().putAll(env);
    return b;
  }
}
