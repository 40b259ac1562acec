package dev.errand.test;

import dev.errand.Client;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import java.time.Clock;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit 5 extension that gives each test a fresh {@link MutableClock}, an {@link InMemoryBackend}
 * on that clock, a {@link Client} of that backend on that clock and a {@link RecordingClient} that
 * records instead of sending, and closes the backend after the test.
 *
 * <pre>{@code
 * @ExtendWith(ErrandExtension.class)
 * class SignupTest {
 *   @Test
 *   void sendsTheWelcomeEmailOnce(Client client, MutableClock clock, Backend backend) {
 *     new Signup(client).register("a@example.com");
 *     assertThat(backend.broker().stats("default").ready()).isEqualTo(1);
 *     clock.advance(Duration.ofMinutes(5));
 *   }
 * }
 * }</pre>
 *
 * <p>Parameters of these types are resolved, in test methods, lifecycle methods ({@code
 * BeforeEach}, {@code AfterEach}) and test class constructors: {@link MutableClock} (also as {@link
 * Clock}), {@link InMemoryBackend} (also as {@link Backend}), {@link Client} and {@link
 * RecordingClient}. Within one test they are the same objects wherever they are injected; the clock
 * starts at {@link MutableClock#DEFAULT_START}. The {@code Client} enqueues into the backend's
 * broker; the {@code RecordingClient} (same backend, same clock) only records what it is asked to
 * send, for assertions with {@link RecordingClient#enqueued}: hand it to the code under test. With
 * {@code @TestInstance(PER_CLASS)}, values injected into the constructor are shared by the class's
 * tests and closed after the last of them.
 *
 * <p>Inside a Spring test ({@code @SpringBootTest} and the like), a parameter is the application
 * context's bean of its type where the context has exactly one ({@code Client}, {@code Backend},
 * {@code MutableClock}, {@code Clock}), so the test sees what the application sends; the {@code
 * RecordingClient} then records over the context's backend. Types the context lacks come from the
 * extension as above.
 *
 * <p>Stateless and thread-safe, so tests may run in parallel.
 */
public final class ErrandExtension implements ParameterResolver, AfterEachCallback {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ErrandExtension.class);

  private static final Set<Class<?>> SUPPORTED =
      Set.of(
          MutableClock.class,
          Clock.class,
          InMemoryBackend.class,
          Backend.class,
          Client.class,
          RecordingClient.class);

  /** Creates the extension; JUnit calls this for {@code @ExtendWith(ErrandExtension.class)}. */
  public ErrandExtension() {}

  /** A test class's constructor gets the same objects as its test method. */
  @Override
  public ExtensionContextScope getTestInstantiationExtensionContextScope(
      ExtensionContext rootContext) {
    return ExtensionContextScope.TEST_METHOD;
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return SUPPORTED.contains(parameter.getParameter().getType());
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Fixture fixture =
        context
            .getStore(NAMESPACE)
            .getOrComputeIfAbsent(Fixture.class, k -> new Fixture(), Fixture.class);
    Class<?> type = parameter.getParameter().getType();
    if (SpringContexts.active(context)) {
      Object bean = fromSpring(context, type);
      if (bean != null) {
        return bean;
      }
    }
    if (type == MutableClock.class || type == Clock.class) {
      return fixture.clock;
    }
    if (type == Client.class) {
      return fixture.client;
    }
    if (type == RecordingClient.class) {
      return fixture.recording;
    }
    return fixture.backend;
  }

  /**
   * The application context's bean for {@code type}, or null: a {@link RecordingClient} records
   * over the context's backend, one per test.
   */
  private static Object fromSpring(ExtensionContext context, Class<?> type) {
    if (type == RecordingClient.class) {
      Backend backend = SpringContexts.bean(context, Backend.class);
      if (backend == null) {
        return null;
      }
      return context
          .getStore(NAMESPACE)
          .getOrComputeIfAbsent(
              RecordingClient.class,
              k -> RecordingClient.builder(backend).build(),
              RecordingClient.class);
    }
    return SpringContexts.bean(context, type);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    // Only this test's own fixture: one a PER_CLASS constructor got lives in the class's store.
    Fixture fixture = context.getStore(NAMESPACE).remove(Fixture.class, Fixture.class);
    if (fixture != null) {
      fixture.close();
    }
  }

  /** One test's clock, backend and client. Closed by JUnit with its store, if not before. */
  private static final class Fixture implements AutoCloseable {
    final MutableClock clock = new MutableClock();
    final InMemoryBackend backend = new InMemoryBackend(clock);
    final Client client = Client.builder(backend).clock(clock).build();
    final RecordingClient recording = RecordingClient.builder(backend).clock(clock).build();

    @Override
    public void close() {
      backend.close();
    }
  }
}
