package dev.errand.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts the {@code errand} command as a child JVM on the test class path. */
final class ErrandProcess {

  private ErrandProcess() {}

  /** Runs {@code errand args...}, its output (with errors) in {@code dir/<out>.out}. */
  static Process start(Path dir, String out, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve(out + ".out").toFile())
        .start();
  }
}
