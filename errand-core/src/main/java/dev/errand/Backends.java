package dev.errand;

import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Opens a backend from a URL: {@code memory:} (in this JVM only), and, with their modules on the
 * class path, {@code sqlite:PATH} ({@code dev.errand:errand-sqlite}) and {@code redis://...},
 * {@code rediss://...}, {@code redis-sentinel://...}, {@code redis-cluster://...} ({@code
 * dev.errand:errand-redis}). Backends are found with {@link ServiceLoader} (see {@link
 * BackendProvider}). Thread-safe.
 */
public final class Backends {

  /** The environment variable and system property naming the backend URL. */
  public static final String URL_ENV = "ERRAND_BROKER_URL";

  /**
   * The artifact that brings each scheme Errand ships a backend for, named when that artifact is
   * missing from the class path: the error is the first thing a newcomer meets, and a list of the
   * providers that are there does not say what to add.
   */
  private static final Map<String, String> ARTIFACTS =
      Map.of(
          "sqlite", "dev.errand:errand-sqlite",
          "redis", "dev.errand:errand-redis",
          "rediss", "dev.errand:errand-redis",
          "redis-sentinel", "dev.errand:errand-redis",
          "redis-cluster", "dev.errand:errand-redis",
          "rediss-cluster", "dev.errand:errand-redis",
          "postgresql", "dev.errand:errand-postgres",
          "postgres", "dev.errand:errand-postgres",
          "jdbc", "dev.errand:errand-postgres");

  private Backends() {}

  /**
   * Opens the backend at {@code url} with the system clock: the backend decides leases, delays,
   * expiry and leadership by its server's clock (Redis {@code TIME}, the host's kernel clock for
   * SQLite), not by this process's, and {@link Backend#clock()} is this process's clock corrected
   * to it.
   */
  public static Backend open(String url) {
    return open(url, Clock.systemUTC());
  }

  /**
   * Opens the backend at {@code url}. With the system clock (in any zone) the backend takes its
   * time from its server, as {@link #open(String)} does; with any other clock (tests, simulations)
   * that clock decides every time. See {@link BackendProvider}.
   *
   * @throws IllegalArgumentException if the URL has no scheme or no module on the class path
   *     handles its scheme (the message names the artifact to add, e.g. {@code
   *     dev.errand:errand-redis} for {@code redis://})
   */
  public static Backend open(String url, Clock clock) {
    return provider(url).open(url, clock);
  }

  /**
   * Opens the backend at {@code url} for reading only (see {@link BackendProvider#openReadOnly}):
   * nothing is written on opening, so a backend that can be read while it cannot be written (SQLite
   * on a full disk, or on a file this process may not write) is read. Writes through it fail.
   *
   * @throws IllegalArgumentException if the URL has no scheme or no module on the class path
   *     handles its scheme (the message names the artifact to add)
   */
  public static Backend openReadOnly(String url, Clock clock) {
    return provider(url).openReadOnly(url, clock);
  }

  private static BackendProvider provider(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("backend URL must not be blank");
    }
    int colon = url.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(
          "backend URL must start with a scheme such as sqlite: or redis:// but was '" + url + "'");
    }
    String scheme = url.substring(0, colon);
    List<String> known = new ArrayList<>();
    for (BackendProvider p :
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
      if (p.supports(scheme)) {
        return p;
      }
      known.add(p.getClass().getSimpleName());
    }
    String artifact = ARTIFACTS.get(scheme);
    String where = "no backend for URL scheme '" + scheme + "' in '" + redact(url) + "'";
    if (artifact != null) {
      throw new IllegalArgumentException(
          where
              + ": add the dependency "
              + artifact
              + " (the version of errand-core; importing dev.errand:errand-bom aligns them)");
    }
    throw new IllegalArgumentException(where + " (providers on the class path: " + known + ")");
  }

  /** The URL without its user info, which may hold a password. */
  private static String redact(String url) {
    int scheme = url.indexOf("://");
    int at = scheme < 0 ? -1 : url.indexOf('@', scheme + 3);
    int slash = scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
    if (at < 0 || (slash >= 0 && slash < at)) {
      return url;
    }
    return url.substring(0, scheme + 3) + "***" + url.substring(at);
  }
}
