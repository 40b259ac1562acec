package dev.errand.dashboard.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows down guessing: after {@link #MAX_FAILURES} failed logins (a wrong token, password or bearer
 * header) from one client address within {@link #WINDOW}, every further attempt from it is refused
 * until the oldest of those failures is a window old. Thread-safe.
 */
final class LoginThrottle {

  /** Failed attempts allowed per address within {@link #WINDOW}. */
  static final int MAX_FAILURES = 5;

  /** The window failures are counted in. */
  static final Duration WINDOW = Duration.ofMinutes(1);

  /** Addresses tracked at most; the least recently failing are forgotten first. */
  static final int MAX_ADDRESSES = 10_000;

  private final Clock clock;
  private final Map<String, Deque<Instant>> failures =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<Instant>> eldest) {
          return size() > MAX_ADDRESSES;
        }
      };

  LoginThrottle(Clock clock) {
    this.clock = clock;
  }

  /** How long {@code address} must wait before trying again; zero if it may try now. */
  synchronized Duration blockedFor(String address) {
    Deque<Instant> times = recent(address);
    if (times == null || times.size() < MAX_FAILURES) {
      return Duration.ZERO;
    }
    return Duration.between(clock.instant(), times.peekFirst().plus(WINDOW));
  }

  /** Counts a failed attempt from {@code address}; returns how many it made within the window. */
  synchronized int failed(String address) {
    Deque<Instant> times = recent(address);
    if (times == null) {
      times = new ArrayDeque<>();
      failures.put(address, times);
    }
    times.addLast(clock.instant());
    while (times.size() > MAX_FAILURES) {
      times.removeFirst();
    }
    return times.size();
  }

  /** A successful login forgets the address's failures. */
  synchronized void succeeded(String address) {
    failures.remove(address);
  }

  /** The failures of {@code address} still within the window, null if none. */
  private Deque<Instant> recent(String address) {
    Deque<Instant> times = failures.get(address);
    if (times == null) {
      return null;
    }
    Instant cutoff = clock.instant().minus(WINDOW);
    while (!times.isEmpty() && !times.peekFirst().isAfter(cutoff)) {
      times.removeFirst();
    }
    if (times.isEmpty()) {
      failures.remove(address);
      return null;
    }
    return times;
  }
}
