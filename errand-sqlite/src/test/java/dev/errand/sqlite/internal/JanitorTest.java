package dev.errand.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The janitor keeps the WAL from growing without end. */
class JanitorTest {

  @TempDir Path dir;
  Path file;
  Db db;
  Janitor janitor;

  @BeforeEach
  void open() {
    file = dir.resolve("errand.db");
    db = new Db(file);
    janitor = new Janitor(db, Clock.systemUTC());
  }

  @AfterEach
  void close() {
    janitor.close();
    db.close();
  }

  private long walBytes() throws Exception {
    Path wal = dir.resolve("errand.db-wal");
    return Files.exists(wal) ? Files.size(wal) : 0;
  }

  private void write(String prefix, int rows) {
    for (int i = 0; i < rows; i++) {
      int n = i;
      db.tx(
          "add",
          d -> {
            PreparedStatement ps =
                d.prepare(
                    "INSERT INTO dead_letters (id, queue, failed_at, body) VALUES (?, 'q', 0, ?)");
            ps.setString(1, prefix + n);
            ps.setBytes(2, new byte[8192]);
            return ps.executeUpdate();
          });
    }
  }

  @Test
  void aRoundEmptiesTheWalThatAnotherProcesssReaderMadeGrowOnceTheReaderMovesOn() throws Exception {
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      // Another process reading: its snapshot keeps every checkpoint short of the WAL's end.
      other.setAutoCommit(false);
      try (Statement s = other.createStatement();
          ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM dead_letters")) {
        rs.next();
      }
      write("early-", 500);
      long grown = walBytes();
      assertThat(grown).as("the WAL holds every page written").isGreaterThan(4_000_000);

      janitor.runOnce();
      assertThat(walBytes())
          .as("the reader still holds its snapshot")
          .isGreaterThanOrEqualTo(grown);

      other.commit(); // the reader moves on
      // SQLite's own checkpoints now reach the end, but never shrink the file.
      write("late-", 10);
      assertThat(walBytes()).isGreaterThanOrEqualTo(grown);

      janitor.runOnce();
    }

    assertThat(walBytes()).isZero();
    long rows =
        db.read(
            "count",
            d -> {
              try (ResultSet rs = d.prepare("SELECT COUNT(*) FROM dead_letters").executeQuery()) {
                rs.next();
                return rs.getLong(1);
              }
            });
    assertThat(rows).isEqualTo(510);
  }

  @Test
  void onceStartedCommitsLeaveCopyingTheWalIntoTheDatabaseToTheJanitor() throws Exception {
    janitor.close();
    janitor = new Janitor(db, Clock.systemUTC(), java.time.Duration.ofHours(1)); // copies on call
    janitor.start();
    janitor.copyCommits(); // the schema, into the database file
    long autocheckpoint =
        db.read(
            "autocheckpoint",
            d -> {
              try (ResultSet rs = d.prepare("PRAGMA wal_autocheckpoint").executeQuery()) {
                rs.next();
                return rs.getLong(1);
              }
            });
    assertThat(autocheckpoint).isZero();

    write("a-", 500); // some 1,100 pages: SQLite's own checkpoints would have copied them
    assertThat(rowsInTheDatabaseFileAlone()).as("the commits copied nothing").isZero();

    janitor.copyCommits();
    assertThat(rowsInTheDatabaseFileAlone()).isEqualTo(500);
  }

  /** Rows of dead_letters in the database file, without what its WAL holds. */
  private long rowsInTheDatabaseFileAlone() throws Exception {
    Path copy = dir.resolve("copy-" + System.nanoTime() + ".db");
    Files.copy(file, copy);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM dead_letters")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
