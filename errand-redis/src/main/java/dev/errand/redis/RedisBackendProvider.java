package dev.errand.redis;

import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import java.time.Clock;
import java.util.Set;

/**
 * Opens {@link RedisBackend}s for {@code redis://}, {@code rediss://}, {@code redis-sentinel://},
 * {@code redis-cluster://} and {@code rediss-cluster://} URLs, and {@link CeleryRedisBackend}s for
 * the same with {@code celery+} in front; found by {@code ServiceLoader}.
 */
public final class RedisBackendProvider implements BackendProvider {

  private static final Set<String> SCHEMES =
      Set.of("redis", "rediss", "redis-sentinel", "redis-cluster", "rediss-cluster");

  /** For {@code ServiceLoader}. */
  public RedisBackendProvider() {}

  @Override
  public boolean supports(String scheme) {
    return SCHEMES.contains(scheme) || CeleryRedisBackend.supports(scheme);
  }

  @Override
  public Backend open(String url, Clock clock) {
    if (url.startsWith("celery+")) {
      return CeleryRedisBackend.open(url, clock);
    }
    return RedisBackend.open(url, clock);
  }
}
