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
}
