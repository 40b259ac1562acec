package dev.errand.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.WorkerInfo;
import dev.errand.spi.WorkerRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Worker heartbeats and their time to live. */
interface WorkerRegistryContract extends ContractFixture {

  @Test
  default void heartbeatListedUntilTtlExpires() {
    WorkerRegistry workers = backend().workers();
    WorkerInfo w = worker("errand@host-a:1:1", 1);

    workers.heartbeat(w, Duration.ofSeconds(30));

    assertThat(workers.live()).containsExactly(w);
    clock().advance(Duration.ofSeconds(29));
    assertThat(workers.live()).containsExactly(w);
    clock().advance(Duration.ofSeconds(2));
    assertThat(workers.live()).isEmpty();
  }

  @Test
  default void heartbeatReplacesTheLastOneAndExtendsItsLife() {
    WorkerRegistry workers = backend().workers();
    workers.heartbeat(worker("errand@host-a:1:1", 1), Duration.ofSeconds(30));
    clock().advance(Duration.ofSeconds(20));
    WorkerInfo later = worker("errand@host-a:1:1", 5);

    workers.heartbeat(later, Duration.ofSeconds(30));
    clock().advance(Duration.ofSeconds(20));

    assertThat(workers.live()).containsExactly(later);
  }

  @Test
  default void removeForgets() {
    WorkerRegistry workers = backend().workers();
    WorkerInfo a = worker("errand@host-a:1:1", 0);
    WorkerInfo b = worker("errand@host-b:2:1", 0);
    workers.heartbeat(a, Duration.ofSeconds(30));
    workers.heartbeat(b, Duration.ofSeconds(30));
    assertThat(workers.live()).containsExactlyInAnyOrder(a, b);

    workers.remove(a.name());
    workers.remove("errand@never-seen:0:0");

    assertThat(workers.live()).containsExactly(b);
  }

  private WorkerInfo worker(String name, long processed) {
    return new WorkerInfo(
        name,
        name.substring(name.indexOf('@') + 1, name.indexOf(':')),
        42,
        List.of("default", "mail"),
        4,
        "threads",
        clock().instant().minusSeconds(3600),
        clock().instant(),
        List.of(new WorkerInfo.RunningTask("t-1", "emails.send", clock().instant())),
        processed,
        1,
        true);
  }
}
