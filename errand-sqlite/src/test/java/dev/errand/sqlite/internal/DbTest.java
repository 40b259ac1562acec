package dev.errand.sqlite.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@link Db} reports SQLite's failures, and what a failed transaction leaves behind. */
class DbTest {

  @TempDir Path dir;
  Path file;
  Db db;

  @BeforeEach
  void open() {
    file = dir.resolve("errand.db");
    db = new Db(file);
  }

  @AfterEach
  void close() {
    db.close();
  }

  /**
   * SQLite answers SQLITE_FULL when a write needs a page it cannot have: on a full disk, or here,
   * beyond {@code max_page_count}, which a test can set anywhere.
   */
  private void capPages(int extra) {
    db.read(
        "cap",
        d -> {
          long pages;
          try (ResultSet rs = d.prepare("PRAGMA page_count").executeQuery()) {
            rs.next();
            pages = rs.getLong(1);
          }
          d.execute("PRAGMA max_page_count = " + (pages + extra));
          return null;
        });
  }

  private void insert(String id, int bytes) {
    db.tx(
        "store a dead letter",
        d -> {
          PreparedStatement ps =
              d.prepare(
                  "INSERT INTO dead_letters (id, queue, failed_at, body) VALUES (?, 'q', 0, ?)");
          ps.setString(1, id);
          ps.setBytes(2, new byte[bytes]);
          ps.executeUpdate();
          return null;
        });
  }

  private long count() {
    return db.read(
        "count",
        d -> {
          try (ResultSet rs = d.prepare("SELECT COUNT(*) FROM dead_letters").executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  @Test
  void aFullDatabaseIsReportedAsAFullDiskNamingTheFileNotAsAMissingTransaction() {
    capPages(2);

    assertThatThrownBy(() -> insert("big", 1_000_000))
        // about the store, not this write: a worker waits for room rather than dead-letter it
        .isInstanceOf(dev.errand.BackendUnavailableException.class)
        .hasMessageStartingWith(
            "SQLite store a dead letter failed on " + file + ": the disk is full")
        .hasMessageContaining("SQLITE_FULL")
        .hasMessageNotContaining("no transaction is active");
  }

  @Test
  void aConstraintRefusesThisWriteOnlyAndIsNotAnUnavailableBackend() {
    insert("same", 10);

    assertThatThrownBy(() -> insert("same", 10))
        .isInstanceOf(BackendException.class)
        .isNotInstanceOf(dev.errand.BackendUnavailableException.class)
        .hasMessageContaining("SQLITE_CONSTRAINT");
  }

  @Test
  void afterAFailedTransactionTheNextOnesWork() {
    capPages(2);
    assertThatThrownBy(() -> insert("big", 1_000_000)).isInstanceOf(BackendException.class);

    insert("small", 10);
    insert("small-2", 10);

    assertThat(count()).isEqualTo(2);
  }

  @Test
  void aWriteThroughAReadOnlyConnectionSaysSo() {
    insert("one", 10);
    Db reader = Db.readOnly(file);
    try {
      Db saved = db;
      db = reader;
      try {
        assertThatThrownBy(() -> insert("two", 10))
            .isInstanceOf(BackendException.class)
            .hasMessageContaining("failed on " + file)
            .hasMessageContaining("this backend opened the file read-only")
            .hasMessageContaining("SQLITE_READONLY");
        assertThat(count()).isEqualTo(1);
      } finally {
        db = saved;
      }
    } finally {
      reader.close();
    }
  }

  @Test
  void readOnlyOpeningReadsAFileWhoseWalIndexCannotBeCreated() throws Exception {
    insert("one", 10);
    insert("two", 10);
    db.close(); // the last connection folds the WAL into the file and deletes it
    // SQLite cannot create the shared-memory index beside the file (a directory is in the way).
    Files.createDirectory(dir.resolve("errand.db-shm"));

    db = Db.readOnly(file);

    assertThat(db.isReadOnly()).isTrue();
    assertThat(count()).isEqualTo(2);
  }

  @Test
  void readOnlyOpeningReadsTheWalOfAWriterThatDiedWithoutItsIndex() throws Exception {
    insert("one", 10);
    db.read(
        "keep the WAL",
        d -> {
          d.execute("PRAGMA wal_autocheckpoint = 0");
          return null;
        });
    insert("two", 10);
    // The file and its WAL as a writer that died leaves them ("two" is only in the WAL), and no
    // index can be made: the WAL must still be read, not skipped as if the file were immutable.
    Path copy = dir.resolve("copy.db");
    Files.copy(file, copy);
    Files.copy(dir.resolve("errand.db-wal"), dir.resolve("copy.db-wal"));
    Files.createDirectory(dir.resolve("copy.db-shm"));
    db.close();

    db = Db.readOnly(copy);

    assertThat(count()).isEqualTo(2);
  }

  @Test
  void readOnlyOpeningRefusesAFileWithoutTheCurrentTables() throws Exception {
    Path empty = dir.resolve("empty.db");
    Files.createFile(empty);

    assertThatThrownBy(() -> Db.readOnly(empty).close())
        .isInstanceOf(BackendException.class)
        .hasMessage(
            "SQLite open failed on "
                + empty
                + ": the file holds no Errand tables (an empty or new"
                + " file)");
  }
}
