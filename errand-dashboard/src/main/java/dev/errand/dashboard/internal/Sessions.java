package dev.errand.dashboard.internal;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Browser sessions after a login: a random id (the cookie's value, never a secret of the
 * configuration) mapped to when it expires. Kept in memory, so a restart logs everyone out.
 * Thread-safe.
 */
final class Sessions {

  /** The most sessions kept; the one expiring first makes room for a new one. */
  static final int MAX_SESSIONS = 10_000;

  private final Map<String, Instant> expiries = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Duration ttl;
  private final Clock clock;

  Sessions(Duration ttl, Clock clock) {
    this.ttl = ttl;
    this.clock = clock;
  }

  Duration ttl() {
    return ttl;
  }

  /** A new session's id: 256 random bits. */
  String create() {
    Instant now = clock.instant();
    expiries.values().removeIf(e -> !e.isAfter(now));
    while (expiries.size() >= MAX_SESSIONS) {
      expiries.entrySet().stream()
          .min(Map.Entry.comparingByValue())
          .ifPresent(e -> expiries.remove(e.getKey()));
    }
    byte[] b = new byte[32];
    random.nextBytes(b);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    expiries.put(id, now.plus(ttl));
    return id;
  }

  /** Whether {@code id} is a session that has not expired. */
  boolean valid(String id) {
    if (id == null) {
      return false;
    }
    Instant expiry = expiries.get(id);
    if (expiry == null) {
      return false;
    }
    if (!expiry.isAfter(clock.instant())) {
      expiries.remove(id);
      return false;
    }
    return true;
  }

  /** Ends session {@code id}; nothing if there is none. */
  void end(String id) {
    if (id != null) {
      expiries.remove(id);
    }
  }
}
