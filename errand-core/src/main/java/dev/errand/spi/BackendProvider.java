package dev.errand.spi;

import java.time.Clock;

/**
 * Opens a {@link Backend} from a URL. Implementations are found with {@link
 * java.util.ServiceLoader}; register one in {@code
 * META-INF/services/dev.errand.spi.BackendProvider}.
 */
public interface BackendProvider {

  /** Whether this provider handles URLs with this scheme, e.g. {@code sqlite} or {@code redis}. */
  boolean supports(String scheme);

  /**
   * Opens a backend.
   *
   * @throws IllegalArgumentException naming the URL when it is malformed
   */
  Backend open(String url, Clock clock);

  /**
   * Opens a backend for reading only, for commands that only look (inspect, result, dead letter
   * lists): a backend that can open without writing does so (SQLite: no schema upgrade, a read-only
   * connection), so reading works on a full disk or a file this process may not write; a write to
   * it fails. The default opens the backend as {@link #open} does.
   *
   * @throws IllegalArgumentException naming the URL when it is malformed
   */
  default Backend openReadOnly(String url, Clock clock) {
    return open(url, clock);
  }
}
