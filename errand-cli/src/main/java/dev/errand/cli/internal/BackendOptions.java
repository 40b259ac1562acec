package dev.errand.cli.internal;

import dev.errand.Backends;
import dev.errand.spi.Backend;
import java.time.Clock;
import picocli.CommandLine.Option;

/** The {@code --broker URL} option shared by every command that talks to a backend. */
final class BackendOptions {

  /** The backend used when neither the flag nor the environment names one. */
  static final String DEFAULT_URL = "sqlite:errand.db";

  @Option(
      names = {"-b", "--broker"},
      paramLabel = "URL",
      description =
          "Backend URL: sqlite:PATH, redis://host:port/db, postgresql://user@host/db,"
              + " celery+redis://host:port/db (a Celery fleet's Redis), memory:NAME (default: $"
              + Backends.URL_ENV
              + " or "
              + DEFAULT_URL
              + ").")
  String url;

  /** The URL in effect: the flag, else the environment, else the default. */
  String url() {
    if (url != null && !url.isBlank()) {
      return url;
    }
    String env = System.getenv(Backends.URL_ENV);
    return env != null && !env.isBlank() ? env : DEFAULT_URL;
  }

  /** Opens the backend; a bad URL fails with a message naming it. */
  Backend open() {
    return Backends.open(url(), Clock.systemUTC());
  }

  /**
   * Opens the backend for a command that only reads: nothing is written on opening, so it works
   * while an SQLite file's disk is full or the file may not be written.
   */
  Backend openReadOnly() {
    return Backends.openReadOnly(url(), Clock.systemUTC());
  }
}
