package dev.errand.postgres.internal;

import dev.errand.BackendException;
import dev.errand.BackendUnavailableException;
import java.sql.SQLException;
import java.sql.SQLTransientException;

/**
 * Turns PostgreSQL's errors into {@link BackendException}s that name the backend, what was being
 * done and the cause with its SQLSTATE. An error about the server rather than the statement (the
 * connection lost or refused, the server shutting down or out of disk or memory, a deadlock or a
 * serialization failure that a retry resolves, no pooled connection in time) is a {@link
 * BackendUnavailableException}: every operation meets it alike until it is dealt with, so none of
 * them is to blame.
 */
public final class PgErrors {

  private PgErrors() {}

  /** A {@link BackendException} for {@code e}, met while doing {@code what}. */
  public static BackendException failure(String what, String backend, SQLException e) {
    // The pool reports "connection is not available" with the server's own reason as its cause
    // (a wrong password, an unknown database): that reason is what an operator needs.
    SQLException reason = e;
    while (reason.getCause() instanceof SQLException inner && inner != reason) {
      reason = inner;
    }
    if (reason != e) {
      e = new SQLException(words(reason), reason.getSQLState(), e);
    }
    String state = e.getSQLState();
    String message =
        "PostgreSQL "
            + what
            + " failed on "
            + backend
            + ": "
            + words(e)
            + (state == null ? "" : " [SQLSTATE " + state + "]");
    return aboutTheServer(e)
        ? new BackendUnavailableException(message, e)
        : new BackendException(message, e);
  }

  /** Whether {@code e} is about the server or the connection, not about the statement. */
  public static boolean aboutTheServer(SQLException e) {
    if (e instanceof SQLTransientException) {
      return true; // Hikari's "connection is not available, request timed out"
    }
    String state = e.getSQLState();
    if (state == null) {
      return e.getCause() instanceof java.io.IOException;
    }
    return state.startsWith("08") // connection exception
        || state.startsWith("53") // insufficient resources: disk full, out of memory, too many
        || state.startsWith("57") // operator intervention: shutdown, cancel, crash recovery
        || state.startsWith("58") // system error: I/O
        || state.equals("40001") // serialization failure
        || state.equals("40P01") // deadlock detected
        || state.equals("55P03") // lock not available
        || state.equals("55000") && String.valueOf(e.getMessage()).contains("read-only")
        || state.equals("25006"); // read-only transaction (a standby)
  }

  private static String words(SQLException e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.strip();
  }
}
