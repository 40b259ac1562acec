package dev.errand.postgres;

import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import java.time.Clock;
import java.util.Set;

/**
 * Opens {@link PostgresBackend}s for {@code postgresql://}, {@code postgres://} and {@code
 * jdbc:postgresql://} URLs; found by {@code ServiceLoader}.
 */
public final class PostgresBackendProvider implements BackendProvider {

  private static final Set<String> SCHEMES = Set.of("postgresql", "postgres", "jdbc");

  /** For {@code ServiceLoader}. */
  public PostgresBackendProvider() {}

  @Override
  public boolean supports(String scheme) {
    return SCHEMES.contains(scheme);
  }

  @Override
  public Backend open(String url, Clock clock) {
    return PostgresBackend.open(url, clock);
  }
}
