package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher {@code ./errand}: the JVM options it gives each kind of command and its class-data
 * archive, which is written once per jar and JDK and never stops a command, whatever state it is
 * in. Run from a {@link LauncherCopy}, so that it never builds. How it supervises a worker:
 * LauncherSupervisorIT.
 */
class LauncherIT {

  @TempDir Path dir;
  LauncherCopy copy;
  Path jar;
  final List<Process> processes = new ArrayList<>();

  record Run(int code, String out, String err) {}

  @BeforeEach
  void copyTheLauncherAndTheJar() throws IOException {
    copy = LauncherCopy.in(dir);
    jar = copy.jar;
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private ProcessBuilder builder(Map<String, String> env, String... args) {
    return copy.builder(env, List.of(args));
  }

  private Run errand(Map<String, String> env, String... args) throws Exception {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = builder(env, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    processes.add(p);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private List<Path> archives() throws IOException {
    Path cds = dir.resolve("errand-cli/target/cds");
    if (!Files.isDirectory(cds)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(cds)) {
      return files.filter(f -> f.toString().endsWith(".jsa")).sorted().toList();
    }
  }

  @Test
  void theArchiveIsWrittenOnceAndCommandsStartWithIt() throws Exception {
    Run first = errand(Map.of(), "--version");
    assertThat(first.code()).isZero();
    assertThat(first.out()).startsWith("errand ");
    assertThat(first.err()).contains("writing a class-data archive");
    assertThat(archives()).hasSize(1);

    Path classes = dir.resolve("classes.txt");
    Run help = errand(Map.of("ERRAND_JAVA_OPTS", "-Xlog:class+load:file=" + classes), "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).startsWith("Usage: errand");
    assertThat(help.err()).isEmpty();
    assertThat(Files.readString(classes))
        .contains("dev.errand.cli.internal.ErrandCommand source: shared objects file");
  }

  @Test
  void anArchiveTheJvmCannotUseIsIgnoredSilently() throws Exception {
    assertThat(errand(Map.of(), "--version").code()).isZero();
    Path archive = archives().get(0);
    archive.toFile().setWritable(true);
    Files.write(archive, new byte[] {'n', 'o', 't', ' ', 'a', 'n', ' ', 'a', 'r', 'c', 'h'});

    Run run = errand(Map.of(), "--version");

    assertThat(run.code()).isZero();
    assertThat(run.out()).startsWith("errand ").hasLineCount(1);
    assertThat(run.err()).isEmpty();
  }

  @Test
  void aRebuiltJarGetsANewArchiveAndTheOldOneGoes() throws Exception {
    assertThat(errand(Map.of(), "--version").code()).isZero();
    Path old = archives().get(0);
    Files.setLastModifiedTime(
        jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));

    Run run = errand(Map.of(), "--version");

    assertThat(run.code()).isZero();
    assertThat(run.err()).contains("writing a class-data archive");
    assertThat(archives()).hasSize(1).doesNotContain(old);
  }

  @Test
  void errandCdsOffGoesWithoutAnArchive() throws Exception {
    Run run = errand(Map.of("ERRAND_CDS", "off"), "--version");
    assertThat(run.code()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(archives()).isEmpty();
  }

  @Test
  void theUsersCollectorAndHeapReplaceTheDefaults() throws Exception {
    // the other collector than the launcher's default for this JDK (see the next test)
    boolean parallelByDefault = Runtime.version().feature() >= 24;
    String users = parallelByDefault ? "UseSerialGC" : "UseParallelGC";
    String ours = parallelByDefault ? "UseParallelGC" : "UseSerialGC";
    Run run =
        errand(
            Map.of(
                "ERRAND_CDS",
                "off",
                "ERRAND_JAVA_OPTS",
                "-XX:+" + users + " -Xmx300m -XX:+PrintCommandLineFlags"),
            "bench",
            "--help");
    assertThat(run.code()).as(run.err()).isZero(); // one collector only, or the JVM would stop
    String flags = run.out().lines().findFirst().orElseThrow();
    assertThat(flags).contains("-XX:+" + users, "-XX:MaxHeapSize=314572800");
    assertThat(flags).doesNotContain(ours);
  }

  @Test
  void aWorkerIsSupervisedByTheShellAndItsWorkerProcessGetsTheWorkerOptions() throws Exception {
    Path out = dir.resolve("worker.out");
    Process sup =
        builder(
                Map.of("ERRAND_JAVA_OPTS", "-Derrand.it=user"),
                "worker",
                "--app",
                "dev.errand.cli.internal.bench.BenchApp",
                "--broker",
                "sqlite:" + dir.resolve("w.db"),
                "--name",
                "launcher-it")
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    processes.add(sup);
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> Files.readString(out).contains("consuming"));

    // No supervisor JVM: the shell that runs the launcher supervises its one worker process.
    List<ProcessHandle> children = sup.children().filter(ProcessHandle::isAlive).toList();
    assertThat(children).hasSize(1);
    List<String> worker = List.of(children.get(0).info().arguments().orElseThrow());
    // the launcher finds the JDK as Maven did (JAVA_HOME, else java on the PATH): this test's
    String collector =
        Runtime.version().feature() >= 24 ? "-XX:+UseParallelGC" : "-XX:+UseSerialGC";
    assertThat(worker)
        .contains(collector, "-Xms16m", "-Derrand.it=user")
        .doesNotContain("-Xmx64m", "-Xshare:off", "-XX:TieredStopAtLevel=1");
    assertThat(worker).anyMatch(o -> o.startsWith("-XX:SharedArchiveFile=" + dir));
    assertThat(worker).anyMatch(o -> o.equals("--supervised-by"));

    sup.destroy(); // SIGTERM
    assertThat(sup.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(sup.exitValue()).isZero();
    assertThat(Files.readString(out)).contains("worker launcher-it stopped");
  }
}
