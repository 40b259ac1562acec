package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.Backend;
import dev.errand.spi.Broker;
import dev.errand.spi.DeadLetterStore;
import dev.errand.spi.Delivery;
import dev.errand.spi.NewMessage;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Re-driving all dead letters while a worker fails them again at once. */
class DeadLettersTest {

  final FakeClock clock = new FakeClock();
  final InMemoryBackend memory = new InMemoryBackend(clock);

  @AfterEach
  void close() {
    memory.close();
  }

  @Test
  void redriveAllSendsEachDeadLetterOnceEvenWhenItFailsAgainAtOnce() {
    AtomicInteger sent = new AtomicInteger();
    Backend failingAgain = workerFailingEverythingAgain(memory, sent);
    Client client = Client.builder(failingAgain).clock(clock).build();
    for (int i = 0; i < 3; i++) {
      memory.deadLetters().add(deadLetter("dl-" + i));
      clock.advance(Duration.ofSeconds(1));
    }

    // Re-sending them again each time they come back would never end.
    int redriven =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10), () -> client.deadLetters().redriveAll(null));

    assertThat(redriven).isEqualTo(3);
    assertThat(sent).hasValue(3);
    assertThat(memory.deadLetters().count(null)).isEqualTo(3); // they failed again: still there
  }

  @Test
  void aDeadLetterWhoseUniqueKeyIsHeldNowStaysUntilItIsFree() throws Exception {
    Client client = Client.builder(memory).clock(clock).build();
    TaskOptions unique = TaskOptions.builder().uniqueKey("backup:db").build();
    String holder = client.send("backups.run", (JsonNode) null, unique).id();
    Delivery running =
        memory.broker().claim(List.of("default"), 1, Duration.ofMinutes(1), Duration.ZERO).get(0);
    // an earlier run of the same backup, dead-lettered: sent with the same unique key
    String body = new String(running.body(), StandardCharsets.UTF_8).replace(holder, "dl-u");
    memory.deadLetters().add(deadLetter("dl-u", body));

    assertThatThrownBy(() -> client.deadLetters().redrive("dl-u"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("holds unique key 'backup:db', which task " + holder + " holds now");
    assertThat(client.deadLetters().redriveAll(null)).isZero();
    assertThat(memory.deadLetters().get("dl-u")).isPresent();

    memory.broker().ack(running); // the running backup ends: the key is free
    assertThat(client.deadLetters().redrive("dl-u")).isTrue();
    assertThat(memory.deadLetters().get("dl-u")).isEmpty();
    assertThat(client.send("backups.run", (JsonNode) null, unique).id()).isEqualTo("dl-u");
  }

  private DeadLetter deadLetter(String id) {
    return deadLetter(id, "{}"); // undecodable: re-sent as it was
  }

  private DeadLetter deadLetter(String id, String body) {
    return new DeadLetter(
        id,
        "no.such.task",
        "default",
        DeadLetterReason.UNKNOWN_TASK,
        TaskError.of("UnknownTask", "no handler"),
        null,
        null,
        body,
        1,
        clock.instant(),
        clock.instant());
  }

  /**
   * {@code backend} with a "worker" that fails every message sent again: by the next look at the
   * dead letters, each one enqueued since is back in them.
   */
  private Backend workerFailingEverythingAgain(Backend backend, AtomicInteger sent) {
    List<String> failing = new ArrayList<>();
    Broker broker =
        proxy(
            Broker.class,
            backend.broker(),
            (method, args) -> {
              if (method.getName().equals("enqueue")) {
                for (Object o : (List<?>) args[0]) {
                  sent.incrementAndGet();
                  failing.add(((NewMessage) o).id());
                }
              }
            });
    DeadLetterStore deadLetters =
        proxy(
            DeadLetterStore.class,
            backend.deadLetters(),
            (method, args) -> {
              if (method.getName().equals("list")) {
                for (String id : failing) {
                  clock.advance(Duration.ofSeconds(1));
                  backend.deadLetters().add(deadLetter(id));
                }
                failing.clear();
              }
            });
    return proxy(
        Backend.class,
        backend,
        (method, args) -> {},
        java.util.Map.of("broker", broker, "deadLetters", deadLetters));
  }

  private static <T> T proxy(Class<T> type, T target, BiConsumer<Method, Object[]> before) {
    return proxy(type, target, before, java.util.Map.of());
  }

  /** {@code target} as {@code type}, with {@code before} told of each call first. */
  private static <T> T proxy(
      Class<T> type,
      T target,
      BiConsumer<Method, Object[]> before,
      java.util.Map<String, ?> parts) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (p, method, args) -> {
              if (parts.containsKey(method.getName())) {
                return parts.get(method.getName());
              }
              before.accept(method, args);
              return invoke(method, target, args);
            }));
  }

  private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
