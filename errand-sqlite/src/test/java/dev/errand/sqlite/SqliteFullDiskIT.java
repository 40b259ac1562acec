package dev.errand.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.errand.BackendException;
import dev.errand.ClusterView;
import dev.errand.spi.NewMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: the database on a 1 MiB tmpfs. Needs root (to mount it), so it runs on CI and
 * is skipped, saying so, elsewhere.
 */
class SqliteFullDiskIT {

  @TempDir Path dir;
  Path mount;
  Path file;

  @BeforeEach
  void mountSmallDisk() throws Exception {
    mount = Files.createDirectory(dir.resolve("small"));
    boolean mounted = run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString());
    String notRun = "SqliteFullDiskIT did not run: mounting a 1 MiB tmpfs needs root on Linux";
    if (!mounted) {
      // One line in the build's output: Maven counts a skipped test, but does not say why.
      System.out.println("[errand-test] " + notRun);
    }
    assumeTrue(mounted, notRun);
    file = mount.resolve("errand.db");
  }

  @AfterEach
  void unmount() throws Exception {
    if (file != null) {
      run("umount", "-l", mount.toString());
    }
  }

  private static boolean run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException notThere) {
      return false;
    }
  }

  private static NewMessage big(int i) {
    return new NewMessage(UUID.randomUUID().toString(), "q", 5, new byte[50_000], null, null, null);
  }

  @Test
  void aFullDiskIsNamedAsSuchAndReadingStillWorks() throws Exception {
    int stored = 0;
    try (SqliteBackend writer = SqliteBackend.open(file, Clock.systemUTC())) {
      BackendException full = null;
      while (full == null && stored < 1000) {
        try {
          writer.broker().enqueue(List.of(big(stored)));
          stored++;
        } catch (BackendException e) {
          full = e;
        }
      }
      assertThat(full)
          .isNotNull()
          .hasMessageStartingWith("SQLite enqueue failed on " + file + ": the disk is full")
          .hasMessageNotContaining("no transaction is active");
      // The next write says the same, not that a statement is broken. As large as the one that
      // failed: a smaller one may fit in the WAL frames the failed transaction wrote, which the
      // next transaction writes over (whether it does depends on the file's layout).
      int next = stored;
      assertThatThrownBy(() -> writer.broker().enqueue(List.of(big(next))))
          .hasMessageContaining("the disk is full");

      // While the writer still has the file open (a worker that cannot write).
      try (SqliteBackend reader = SqliteBackend.openReadOnly(file, Clock.systemUTC())) {
        ClusterView view = ClusterView.read(reader, Clock.systemUTC());
        assertThat(view.queue("q").orElseThrow().ready()).isEqualTo(stored);
      }
    }
    fillUp();

    // No writer left, not a byte free: writing fails naming the cause (opening writes nothing
    // when the schema is current, so it is the open or the first write); reading works.
    assertThatThrownBy(
            () -> {
              try (SqliteBackend again = SqliteBackend.open(file, Clock.systemUTC())) {
                again.broker().enqueue(List.of(big(0)));
              }
            })
        .isInstanceOf(BackendException.class)
        .hasMessageContaining(" failed on " + file + ": the disk is full");
    try (SqliteBackend reader = SqliteBackend.openReadOnly(file, Clock.systemUTC())) {
      assertThat(reader.broker().stats("q").ready()).isEqualTo(stored);
      assertThat(reader.deadLetters().countByQueue()).isEmpty();
    }
  }

  /** Takes every byte left on the small disk. */
  private void fillUp() throws IOException {
    try (OutputStream out = Files.newOutputStream(mount.resolve("filler"))) {
      byte[] block = new byte[4096];
      while (true) {
        out.write(block);
        out.flush();
      }
    } catch (IOException noSpaceLeft) {
      // expected: the disk is full
    }
    assertThat(Files.getFileStore(mount).getUsableSpace()).isLessThan(4096);
  }
}
