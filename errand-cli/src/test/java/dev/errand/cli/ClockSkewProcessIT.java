package dev.errand.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.TaskOptions;
import dev.errand.TaskState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Real {@code errand worker} processes whose clocks are a minute off, under libfaketime, beside one
 * whose clock is right: the backend's clock decides, so the skewed ones neither take over a task
 * the right one runs past its lease, nor run a delayed task early or late. Subclassed once per
 * backend.
 *
 * <p>libfaketime (Debian's {@code faketime} package, which {@code .ci/run} installs) is preloaded
 * with {@code FAKETIME=+60s} or {@code -60s}: it shifts what the JVM's clock calls answer ({@code
 * clock_gettime}, {@code gettimeofday}), not what Redis says or what the kernel writes into files.
 * The monotonic clock is shifted by the same constant, so every duration the JVM measures stays
 * right. Its README's advice for JVMs, {@code FAKETIME_DONT_FAKE_MONOTONIC=1}, is not taken: with
 * Debian's 0.9.10 it makes the JVM's timed waits end at wrong times ({@code errand --help} took 36
 * s instead of 2.5 s), while without it a JVM runs normally. {@code FAKETIME_NO_CACHE} is not
 * needed either: the offset comes from the environment and never changes.
 */
abstract class ClockSkewProcessIT extends ProcessTestBase {

  /** Where Debian and others put libfaketime. */
  static final List<String> LIBFAKETIME_DIRS =
      List.of(
          "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib");

  static final Duration COUNTDOWN = Duration.ofSeconds(8);

  private static boolean toldNotRun;

  /**
   * Skips the calling test where libfaketime is not installed, and says so once per run in the
   * build's output (Maven counts a skipped test, but does not say why).
   */
  static synchronized void assumeLibfaketime() {
    String notRun =
        "the clock skew process tests (SqliteClockSkewProcessIT, RedisClockSkewProcessIT) did not"
            + " run: they need libfaketime (Debian: apt-get install faketime)";
    if (libfaketime() == null && !toldNotRun) {
      toldNotRun = true;
      System.out.println("[errand-test] " + notRun);
    }
    assumeThat(libfaketime()).as(notRun).isNotNull();
  }

  static Path libfaketime() {
    return LIBFAKETIME_DIRS.stream()
        .map(d -> Path.of(d, "faketime", "libfaketime.so.1"))
        .filter(Files::isReadable)
        .findFirst()
        .orElse(null);
  }

  /** A worker whose clock is {@code faketime} off ({@code +60s}), or right (null). */
  Process worker(String name, String faketime, String... extra) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of("worker", "--app", ItApp.class.getName(), "--broker", url, "--name", name));
    args.addAll(List.of(extra));
    Map<String, String> env =
        faketime == null
            ? Map.of()
            : Map.of("LD_PRELOAD", libfaketime().toString(), "FAKETIME", faketime);
    Process p = ErrandProcess.start(dir, name, args, env);
    processes.add(p);
    return p;
  }

  AsyncResult<Integer> send(String queue, int ms, Duration countdown) {
    TaskOptions.Builder options = TaskOptions.builder().queue(queue);
    if (countdown != null) {
      options.countdown(countdown);
    }
    return client.enqueue(ItApp.WORK, new ItApp.Work(0, ms, log.toString()), options.build());
  }

  /** How many times task {@code id} started. */
  long starts(String id) throws IOException {
    if (!Files.exists(log)) {
      return 0;
    }
    try (Stream<String> lines = Files.lines(log)) {
      return lines.filter(l -> l.startsWith("start " + id + " ")).count();
    }
  }

  boolean consuming(String name) throws IOException {
    Path out = dir.resolve(name + ".out");
    return Files.exists(out) && Files.readString(out).contains("worker " + name + " consuming");
  }

  @Test
  void workersWithClocksAMinuteOffRunNothingTwiceAndNothingEarlyOrLate() throws Exception {
    assumeLibfaketime();
    worker("right", null, "-Q", "default", "-c", "1", "--prefetch", "0", "--lease", "3s");
    AsyncResult<Integer> running = send("default", 10_000, null); // three leases and more
    await().atMost(Duration.ofSeconds(60)).until(() -> running.state() == TaskState.STARTED);
    assertThat(running.status().worker()).isEqualTo("right");

    // Both also consume the queue of the running task: a skewed clock would take it over at once.
    worker("ahead", "+60s", "-Q", "default,ahead", "-c", "1", "--prefetch", "0", "--lease", "3s");
    worker("behind", "-60s", "-Q", "default,behind", "-c", "1", "--prefetch", "0", "--lease", "3s");
    await().atMost(Duration.ofSeconds(60)).until(() -> consuming("ahead") && consuming("behind"));
    AsyncResult<Integer> early = send("ahead", 10, COUNTDOWN); // only "ahead" can run it
    AsyncResult<Integer> late = send("behind", 10, COUNTDOWN); // only "behind" can run it

    await() // a skewed clock would run one at once and the other a minute late
        .during(COUNTDOWN.minusSeconds(2))
        .atMost(COUNTDOWN.minusSeconds(1))
        .until(() -> starts(early.id()) == 0 && starts(late.id()) == 0);
    await() // within the polling tick, with room for a loaded machine
        .atMost(Duration.ofSeconds(5))
        .until(() -> starts(early.id()) == 1 && starts(late.id()) == 1);

    assertThat(running.get(Duration.ofSeconds(60))).isZero();
    assertThat(early.get(Duration.ofSeconds(30))).isZero();
    assertThat(late.get(Duration.ofSeconds(30))).isZero();
    assertThat(early.status().worker()).isEqualTo("ahead");
    assertThat(late.status().worker()).isEqualTo("behind");
    String runs = Files.readString(log);
    assertThat(starts(running.id())).as(runs).isEqualTo(1);
    assertThat(starts(early.id())).as(runs).isEqualTo(1);
    assertThat(starts(late.id())).as(runs).isEqualTo(1);
    assertThat(Files.readString(dir.resolve("ahead.out")))
        .contains("the clock of this process is 60.0 s ahead of the clock of");
    assertThat(Files.readString(dir.resolve("behind.out")))
        .contains("the clock of this process is 60.0 s behind the clock of");
  }
}
