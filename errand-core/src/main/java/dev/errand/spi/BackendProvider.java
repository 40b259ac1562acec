package dev.errand.spi;

import java.time.Clock;

/**
 * Opens a {@link Backend} from a URL. Implementations are found with {@link
 * java.util.ServiceLoader}; register one in {@code
 * META-INF/services/dev.errand.spi.BackendProvider}.
 *
 * <p>The clock passed to {@link #open} chooses which time is authoritative. The system clock (in
 * any zone, see {@link #isSystemClock}) means <em>server time</em>: the backend decides leases,
 * delays, expiry and leadership by its server's clock (Redis {@code TIME}, the database's clock,
 * the host kernel's clock for SQLite), never by the clock of the process that calls it, and its
 * {@link Backend#clock()} is the process clock corrected to that time. Any other clock (a test's
 * settable clock, a simulation) is used as given, for every decision, so tests stay deterministic.
 */
public interface BackendProvider {

  /** Whether this provider handles URLs with this scheme, e.g. {@code sqlite} or {@code redis}. */
  boolean supports(String scheme);

  /**
   * Opens a backend.
   *
   * @param clock the system clock for server time, or the clock that decides every time (tests)
   * @throws IllegalArgumentException naming the URL when it is malformed
   */
  Backend open(String url, Clock clock);

  /**
   * Whether {@code clock} is the plain system clock, in any zone ({@link Clock#systemUTC()}, {@link
   * Clock#systemDefaultZone()}, {@link Clock#system}): a backend opened with it takes its time from
   * its server. A wrapped, offset or ticking clock is not.
   */
  static boolean isSystemClock(Clock clock) {
    return clock.equals(Clock.system(clock.getZone()));
  }

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
