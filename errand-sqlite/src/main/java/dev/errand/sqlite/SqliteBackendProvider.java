package dev.errand.sqlite;

import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;

/** Opens {@link SqliteBackend}s for URLs {@code sqlite:PATH}; found by {@code ServiceLoader}. */
public final class SqliteBackendProvider implements BackendProvider {

  /** The URL scheme: {@value}. */
  public static final String SCHEME = "sqlite";

  /** For {@code ServiceLoader}. */
  public SqliteBackendProvider() {}

  @Override
  public boolean supports(String scheme) {
    return SCHEME.equals(scheme);
  }

  @Override
  public Backend open(String url, Clock clock) {
    return SqliteBackend.open(path(url), clock);
  }

  /** Opens the file read-only: see {@link SqliteBackend#openReadOnly}. */
  @Override
  public Backend openReadOnly(String url, Clock clock) {
    return SqliteBackend.openReadOnly(path(url), clock);
  }

  private static Path path(String url) {
    if (!url.startsWith(SCHEME + ":")) {
      throw new IllegalArgumentException("not a sqlite URL: '" + url + "'");
    }
    String path = url.substring(SCHEME.length() + 1);
    if (path.startsWith("//")) {
      path = path.substring(2); // sqlite:///abs/path and sqlite://rel are accepted too
    }
    if (path.isBlank()) {
      throw new IllegalArgumentException(
          "sqlite URL needs a file path, e.g. sqlite:errand.db, but was '" + url + "'");
    }
    try {
      return Path.of(path);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(
          "'" + url + "' does not name a valid path: " + e.getReason());
    }
  }
}
