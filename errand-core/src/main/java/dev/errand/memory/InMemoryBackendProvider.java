package dev.errand.memory;

import dev.errand.spi.Backend;
import dev.errand.spi.BackendProvider;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.EventStore;
import dev.errand.spi.ResultStore;
import dev.errand.spi.ScheduleStore;
import dev.errand.spi.WorkerRegistry;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * Opens {@link InMemoryBackend}s for URLs of scheme {@code memory}, found by {@link
 * java.util.ServiceLoader}:
 *
 * <ul>
 *   <li>{@code memory:} opens a new, private backend each time.
 *   <li>{@code memory:NAME} opens the backend of that name in this JVM, creating it on first use,
 *       so a client and a worker that each open the URL share their messages. Each open returns its
 *       own handle; the named backend is closed and forgotten when the last handle is closed. All
 *       handles of one name must use equal clocks. A name is letters, digits, {@code .}, {@code _}
 *       and {@code -}.
 * </ul>
 *
 * <p>Event logs have {@value InMemoryBackend#DEFAULT_EVENT_CAPACITY} events. Thread-safe.
 */
public final class InMemoryBackendProvider implements BackendProvider {

  /** The URL scheme: {@value}. */
  public static final String SCHEME = "memory";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

  /** Named backends of this JVM (of this class loader), guarded by itself. */
  private static final Map<String, Shared> NAMED = new HashMap<>();

  /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
  public InMemoryBackendProvider() {}

  @Override
  public boolean supports(String scheme) {
    return SCHEME.equals(scheme);
  }

  /**
   * Opens {@code memory:} or {@code memory:NAME}.
   *
   * @throws IllegalArgumentException if the URL is not of that form, or NAME is open with a clock
   *     that is not equal to {@code clock}
   */
  @Override
  public Backend open(String url, Clock clock) {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(clock, "clock");
    if (!url.startsWith(SCHEME + ":")) {
      throw new IllegalArgumentException("not a memory: URL: '" + url + "'");
    }
    String name = url.substring(SCHEME.length() + 1);
    if (name.isEmpty()) {
      return new InMemoryBackend(clock);
    }
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "memory backend name must be letters, digits, '.', '_' or '-' but was '"
              + name
              + "' in URL '"
              + url
              + "'");
    }
    synchronized (NAMED) {
      Shared shared = NAMED.get(name);
      if (shared == null) {
        shared =
            new Shared(
                name,
                clock,
                new InMemoryBackend(url, clock, InMemoryBackend.DEFAULT_EVENT_CAPACITY));
        NAMED.put(name, shared);
      } else if (!shared.clock.equals(clock)) {
        throw new IllegalArgumentException(
            "'" + url + "' is already open with clock " + shared.clock + ", not " + clock);
      }
      shared.handles++;
      return new Handle(shared);
    }
  }

  private static final class Shared {
    final String name;
    final Clock clock;
    final InMemoryBackend backend;
    int handles; // guarded by NAMED

    Shared(String name, Clock clock, InMemoryBackend backend) {
      this.name = name;
      this.clock = clock;
      this.backend = backend;
    }
  }

  /** One opener's view of a named backend; closing it lets go of the backend. */
  private static final class Handle implements Backend {
    private final Shared shared;
    private final AtomicBoolean closed = new AtomicBoolean();

    Handle(Shared shared) {
      this.shared = shared;
    }

    @Override
    public Broker broker() {
      return shared.backend.broker();
    }

    @Override
    public ResultStore results() {
      return shared.backend.results();
    }

    @Override
    public DeadLetterStore deadLetters() {
      return shared.backend.deadLetters();
    }

    @Override
    public EventStore events() {
      return shared.backend.events();
    }

    @Override
    public WorkerRegistry workers() {
      return shared.backend.workers();
    }

    @Override
    public ScheduleStore schedules() {
      return shared.backend.schedules();
    }

    @Override
    public dev.errand.spi.WorkflowStore workflows() {
      return shared.backend.workflows();
    }

    @Override
    public java.util.Set<String> settle(
        java.util.List<dev.errand.spi.Settlement> batch, java.time.Duration ttl) {
      return shared.backend.settle(batch, ttl);
    }

    @Override
    public Clock clock() {
      return shared.backend.clock();
    }

    @Override
    public String describe() {
      return shared.backend.describe();
    }

    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      synchronized (NAMED) {
        if (--shared.handles == 0) {
          NAMED.remove(shared.name);
          shared.backend.close();
        }
      }
    }

    @Override
    public String toString() {
      return "InMemoryBackend[" + describe() + "]";
    }
  }
}
