package dev.errand.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forwarding types pass every call on, default methods included: a default method left out
 * answers with the interface's default instead of the wrapped backend's (a sharded Redis queue seen
 * through the Spring starter's transaction-aware broker said it had one shard).
 */
class ForwardingTypesTest {

  static Stream<Arguments> forwardingTypes() {
    return Stream.of(
        Arguments.of(Broker.class, ForwardingBroker.class),
        Arguments.of(Backend.class, ForwardingBackend.class),
        Arguments.of(EventStore.class, ForwardingEventStore.class));
  }

  @ParameterizedTest(name = "{1} overrides every method of {0}")
  @MethodSource("forwardingTypes")
  void overridesEveryMethodOfItsInterface(Class<?> api, Class<?> forwarding) {
    List<String> missing = new ArrayList<>();
    for (Method m : api.getMethods()) {
      if (Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      try {
        forwarding.getDeclaredMethod(m.getName(), m.getParameterTypes());
      } catch (NoSuchMethodException e) {
        missing.add(m.toGenericString());
      }
    }
    assertThat(missing).as("methods %s does not forward", forwarding.getSimpleName()).isEmpty();
  }
}
