package dev.errand.sqlite.internal;

import dev.errand.BackendException;
import dev.errand.BackendUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * Turns SQLite's errors into messages that name the file and the real cause: a full disk, a file or
 * directory that may not be written, a lock held too long, a damaged file. SQLite reports a full
 * disk as {@code SQLITE_FULL} when a write needs a page, but as an {@code SQLITE_IOERR_*} when
 * creating or growing the WAL or its shared-memory index ({@code -shm}) fails; so an I/O error is
 * told as a full disk when the file system has no room left.
 */
final class SqliteErrors {

  /** Less room than this on the file system makes an I/O error a full disk: {@value} bytes. */
  static final long NEARLY_FULL_BYTES = 64 * 1024;

  private SqliteErrors() {}

  /**
   * A {@link BackendException} for {@code e}, which happened while doing {@code what} on {@code
   * file}: {@code "SQLite <what> failed on <file>: <cause> [<SQLite code>]"}.
   */
  static BackendException failure(String what, Path file, boolean readOnly, SQLException e) {
    String message = "SQLite " + what + " failed on " + file + ": " + cause(file, readOnly, e);
    return aboutTheStore(code(e))
        ? new BackendUnavailableException(message, e)
        : new BackendException(message, e);
  }

  /**
   * Whether an error is about the database rather than the statement that met it (full, read-only,
   * locked, unreadable, damaged): every write fails alike until it is dealt with, so none of them
   * is to blame. An error about the statement (a constraint, a value too big) is not.
   */
  static boolean aboutTheStore(SQLiteErrorCode code) {
    if (code == null) {
      return false;
    }
    return switch (code.code & 0xff) {
      case 5, 6, 7, 8, 10, 11, 13, 14, 15, 26 -> true; // BUSY, LOCKED, NOMEM, READONLY, IOERR,
      // CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB
      default -> false;
    };
  }

  /** What went wrong, for an operator: the cause first, then SQLite's own words and code. */
  static String cause(Path file, boolean readOnly, SQLException e) {
    SQLiteErrorCode code = code(e);
    String sqlite = sqliteWords(e, code);
    if (code == null) {
      return sqlite;
    }
    Path dir = file.toAbsolutePath().getParent();
    return switch (code.code & 0xff) {
      case 13 -> full(dir) + " [" + sqlite + "]"; // SQLITE_FULL
      case 10 -> // SQLITE_IOERR
          (isFull(dir) ? full(dir) : "an I/O error on " + file) + " [" + sqlite + "]";
      case 8 -> readOnlyCause(file, dir, readOnly, code) + " [" + sqlite + "]"; // SQLITE_READONLY
      case 14 -> cantOpen(file, dir) + " [" + sqlite + "]"; // SQLITE_CANTOPEN
      case 5, 6 -> // SQLITE_BUSY, SQLITE_LOCKED
          "another process held the database locked for longer than "
              + Db.BUSY_TIMEOUT_MS / 1000
              + " s ["
              + sqlite
              + "]";
      case 11, 26 -> // SQLITE_CORRUPT, SQLITE_NOTADB
          file + " is damaged or not an SQLite database [" + sqlite + "]";
      default -> sqlite;
    };
  }

  /** The error's SQLite code, or null when it is not one of SQLite's. */
  static SQLiteErrorCode code(SQLException e) {
    return e instanceof SQLiteException s ? s.getResultCode() : null;
  }

  /** Whether {@code e} says there was no transaction (SQLite ended it itself after an error). */
  static boolean noTransaction(SQLException e) {
    String m = e.getMessage();
    return m != null && m.contains("no transaction is active");
  }

  private static String sqliteWords(SQLException e, SQLiteErrorCode code) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    if (code == null) {
      return m;
    }
    // xerial writes "[CODE] generic text (detail)"; keep the code and the detail.
    String prefix = "[" + code.name() + "] ";
    if (m.startsWith(prefix)) {
      m = m.substring(prefix.length());
    }
    return code.name() + ": " + m;
  }

  private static String full(Path dir) {
    long free = usable(dir);
    return "the disk is full" + (free < 0 ? "" : " (" + free + " bytes free in " + dir + ")");
  }

  private static boolean isFull(Path dir) {
    long free = usable(dir);
    return free >= 0 && free < NEARLY_FULL_BYTES;
  }

  private static long usable(Path dir) {
    try {
      return dir == null ? -1 : Files.getFileStore(dir).getUsableSpace();
    } catch (IOException | SecurityException e) {
      return -1;
    }
  }

  private static String readOnlyCause(Path file, Path dir, boolean readOnly, SQLiteErrorCode code) {
    if (readOnly && code == SQLiteErrorCode.SQLITE_READONLY) {
      return "this backend opened the file read-only, for reading";
    }
    if (fileSystemReadOnly(dir)) {
      return "the file system holding " + file + " is mounted read-only";
    }
    if (Files.exists(file) && !Files.isWritable(file)) {
      return file + " is read-only (its permissions)";
    }
    if (dir != null && !Files.isWritable(dir)) {
      return "directory "
          + dir
          + " is not writable (SQLite keeps "
          + file.getFileName()
          + "-wal and -shm beside the file, also to read it)";
    }
    return file + " could not be written";
  }

  private static String cantOpen(Path file, Path dir) {
    if (dir == null || !Files.isDirectory(dir)) {
      return "directory " + dir + " does not exist";
    }
    if (!Files.exists(file)) {
      return file + " does not exist";
    }
    if (!Files.isReadable(file)) {
      return file + " is not readable (its permissions)";
    }
    if (isFull(dir)) {
      return full(dir);
    }
    return "cannot open " + file;
  }

  private static boolean fileSystemReadOnly(Path dir) {
    try {
      return dir != null && Files.getFileStore(dir).isReadOnly();
    } catch (IOException | SecurityException e) {
      return false;
    }
  }
}
