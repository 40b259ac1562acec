package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.TaskOptions;
import dev.errand.spi.Broker;
import dev.errand.spi.Delivery;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.NewMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** Messages and claims for the contract tests. Bodies are labels, so failures read well. */
final class ContractSupport {

  /** The lease of {@link #claimNow}. */
  static final Duration LEASE = Duration.ofSeconds(30);

  /** The time to live of stored results, revocations, once-claims and heartbeats. */
  static final Duration TTL = Duration.ofHours(1);

  /** The longest a test waits for another thread; tests never assert speed. */
  static final Duration PATIENCE = Duration.ofSeconds(10);

  /** Longer than any test may run: a claim that returns did not run out this wait. */
  static final Duration LONG_WAIT = Duration.ofSeconds(BackendContractTest.TIME_LIMIT_SECONDS * 2);

  private ContractSupport() {}

  static String newId() {
    return UUID.randomUUID().toString();
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static NewMessage message(String queue, String label) {
    return message(queue, TaskOptions.DEFAULT_PRIORITY, label);
  }

  static NewMessage message(String queue, int priority, String label) {
    return new NewMessage(newId(), queue, priority, bytes(label), null, null, null);
  }

  static NewMessage delayed(String queue, String label, Instant notBefore) {
    return new NewMessage(
        newId(), queue, TaskOptions.DEFAULT_PRIORITY, bytes(label), notBefore, null, null);
  }

  static NewMessage keyed(String queue, String label, String key, Duration window) {
    return new NewMessage(
        newId(), queue, TaskOptions.DEFAULT_PRIORITY, bytes(label), null, key, window);
  }

  /** A message under {@code limit}, priority {@code priority}. */
  static NewMessage limited(String queue, int priority, String label, FlowLimit limit) {
    return new NewMessage(newId(), queue, priority, bytes(label), null, null, null, limit, null);
  }

  /** A message under {@code limit}, default priority. */
  static NewMessage limited(String queue, String label, FlowLimit limit) {
    return limited(queue, TaskOptions.DEFAULT_PRIORITY, label, limit);
  }

  /** A message holding {@code uniqueKey}. */
  static NewMessage unique(String queue, String label, String uniqueKey) {
    return new NewMessage(
        newId(),
        queue,
        TaskOptions.DEFAULT_PRIORITY,
        bytes(label),
        null,
        null,
        null,
        null,
        uniqueKey);
  }

  /** The body of a delivery as text. */
  static String label(Delivery d) {
    return new String(d.body(), StandardCharsets.UTF_8);
  }

  static List<String> labels(List<Delivery> deliveries) {
    return deliveries.stream().map(ContractSupport::label).toList();
  }

  /** Claims up to {@code max} from {@code queue} with {@link #LEASE}, without waiting. */
  static List<Delivery> claimNow(Broker broker, String queue, int max) throws InterruptedException {
    return broker.claim(List.of(queue), max, LEASE, Duration.ZERO);
  }

  /** Claims exactly one message from {@code queue}, failing the test if none is ready. */
  static Delivery claimOne(Broker broker, String queue) throws InterruptedException {
    List<Delivery> claimed = claimNow(broker, queue, 1);
    assertThat(claimed).as("a message ready on queue %s", queue).hasSize(1);
    return claimed.get(0);
  }

  /** Claims everything ready on {@code queue}, one message at a time, and returns the labels. */
  static List<String> drainOneByOne(Broker broker, String queue) throws InterruptedException {
    List<String> labels = new java.util.ArrayList<>();
    List<Delivery> next;
    while (!(next = claimNow(broker, queue, 1)).isEmpty()) {
      labels.add(label(next.get(0)));
    }
    return labels;
  }
}
