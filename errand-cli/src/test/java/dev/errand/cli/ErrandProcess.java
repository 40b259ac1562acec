package dev.errand.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/** Starts the {@code errand} command as a child JVM on the test class path. */
final class ErrandProcess {

  /**
   * Options of every child JVM: the client compiler only and the serial collector. A child lives
   * seconds to a minute and a test starts up to a dozen, often two tests at once on 2 cores. A JVM
   * starting with C2 and G1 takes both cores for seconds, starving the workers already running
   * (their leases lapse while renewals wait for a CPU; workers killed every 3 s came back slower
   * than the kills). What the tests prove does not depend on how fast the code is compiled.
   */
  static final List<String> CHILD_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  private ErrandProcess() {}

  /** Runs {@code errand args...}, its output (with errors) in {@code dir/<out>.out}. */
  static Process start(Path dir, String out, List<String> args) throws IOException {
    return start(dir, out, args, Map.of());
  }

  /** {@link #start(Path, String, List)} with {@code env} added to the environment. */
  static Process start(Path dir, String out, List<String> args, Map<String, String> env)
      throws IOException {
    return start(dir, out, List.of(), args, env);
  }

  /** {@link #start(Path, String, List, Map)} with JVM options {@code jvm}. */
  static Process start(
      Path dir, String out, List<String> jvm, List<String> args, Map<String, String> env)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.addAll(CHILD_JVM);
    cmd.addAll(jvm); // after CHILD_JVM, so a test's own option wins
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(out + ".out").toFile());
    builder.environment().putAll(env);
    return builder.start();
  }

  /**
   * Prints the output of every process a test started when the test throws (before its {@code
   * TempDir} is deleted), so a failure on CI can be read. Register with {@code @RegisterExtension},
   * giving the test's directory.
   */
  static TestExecutionExceptionHandler printOutputsOnFailure(Supplier<Path> dir) {
    return (context, failure) -> {
      try (var files = Files.list(dir.get())) {
        for (Path f : files.filter(p -> p.toString().endsWith(".out")).sorted().toList()) {
          System.out.println("---- " + f.getFileName() + " of " + context.getDisplayName());
          System.out.println(Files.readString(f));
        }
      } catch (IOException | RuntimeException e) {
        System.out.println("could not print the processes' output: " + e);
      }
      throw failure;
    };
  }
}
