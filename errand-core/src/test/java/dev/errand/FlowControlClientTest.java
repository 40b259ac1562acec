package dev.errand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.LimitStats;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How task and call options become the broker's limits and unique keys. */
class FlowControlClientTest {

  record Order(String seller, int n) {}

  final FakeClock clock = new FakeClock();
  final InMemoryBackend backend = new InMemoryBackend(clock);
  final Client client = Client.builder(backend).clock(clock).build();

  static final TaskDef<Order, Void> SYNC =
      TaskDef.builder("orders.sync", Order.class, Void.class)
          .options(TaskOptions.builder().rateLimit("30/m").concurrencyLimit(2).build())
          .limitKey(o -> "seller:" + o.seller())
          .build();

  @Test
  void ratesParseAsWrittenAndBadOnesAreNamed() {
    assertThat(RateLimit.parse("10/s")).isEqualTo(new RateLimit(10, Duration.ofSeconds(1)));
    assertThat(RateLimit.parse(" 30 / min ")).isEqualTo(new RateLimit(30, Duration.ofMinutes(1)));
    assertThat(RateLimit.parse("1000/h").toString()).isEqualTo("1000/h");
    assertThat(RateLimit.parse("5/day").period()).isEqualTo(Duration.ofDays(1));
    for (String bad : List.of("10", "10/x", "-1/s", "0/s", "10/s/s", "ten/s", "99999999/s")) {
      assertThatThrownBy(() -> RateLimit.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("rate");
    }
  }

  @Test
  void theKeyComesFromTheArgumentAndTheLimitFromTheDefinition() {
    client.enqueue(SYNC, new Order("acme", 1));
    client.enqueue(SYNC, new Order("acme", 2));
    client.enqueue(SYNC, new Order("zeta", 3));

    List<LimitStats> limits = backend.broker().limits("default", 10);
    assertThat(limits)
        .extracting(s -> s.limit().key())
        .containsExactly("seller:acme", "seller:zeta");
    assertThat(limits.get(0).limit()).isEqualTo(new FlowLimit("seller:acme", 30, 60_000, 1, 2));
  }

  @Test
  void withoutAKeyOneLimitCoversEveryCallOfTheTask() {
    TaskDef<Order, Void> plain =
        TaskDef.builder("emails.send", Order.class, Void.class)
            .options(TaskOptions.builder().rateLimit("10/s").rateBurst(5).build())
            .build();
    client.enqueue(plain, new Order("a", 1));
    client.enqueue(plain, new Order("b", 2), TaskOptions.builder().limitKey("vip").build());

    assertThat(backend.broker().limits("default", 10))
        .extracting(LimitStats::limit)
        .containsExactlyInAnyOrder(
            new FlowLimit("task:emails.send", 10, 1000, 5, 0),
            new FlowLimit("vip", 10, 1000, 5, 0));
  }

  @Test
  void aKeyOrBurstWithoutALimitIsRefused() {
    TaskDef<Order, Void> plain = TaskDef.of("emails.send", Order.class);
    assertThatThrownBy(
            () ->
                client.enqueue(
                    plain, new Order("a", 1), TaskOptions.builder().limitKey("k").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "task emails.send sets limitKey 'k' but no rateLimit or concurrencyLimit for it");
    assertThatThrownBy(
            () ->
                client.enqueue(
                    plain,
                    new Order("a", 1),
                    TaskOptions.builder().concurrencyLimit(1).rateBurst(3).build()))
        .hasMessage("task emails.send sets rateBurst without a rateLimit");
    assertThatThrownBy(() -> TaskOptions.builder().concurrencyLimit(0))
        .hasMessage("concurrencyLimit must be 1-1000000 but was 0");
    assertThatThrownBy(() -> TaskOptions.builder().uniqueKey(""))
        .hasMessage("uniqueKey must be 1-1000 characters but was 0");
    assertThat(backend.broker().stats("default").ready()).isZero();
  }

  @Test
  void aUniqueKeyReturnsTheFirstCallWhileItIsQueued() {
    TaskDef<Order, Void> backup =
        TaskDef.builder("backups.run", Order.class, Void.class)
            .uniqueKey(o -> "backup:" + o.seller())
            .build();
    AsyncResult<Void> first = client.enqueue(backup, new Order("db", 1));
    AsyncResult<Void> second = client.enqueue(backup, new Order("db", 2));
    AsyncResult<Void> other = client.enqueue(backup, new Order("files", 3));
    AsyncResult<Void> called =
        client.enqueue(
            backup, new Order("x", 4), TaskOptions.builder().uniqueKey("backup:db").build());

    assertThat(second.id()).isEqualTo(first.id());
    assertThat(called.id()).as("the call's own key wins").isEqualTo(first.id());
    assertThat(other.id()).isNotEqualTo(first.id());
    assertThat(backend.broker().stats("default").ready()).isEqualTo(2);
  }
}
