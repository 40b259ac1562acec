package com.example.readme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.Client;
import dev.errand.memory.InMemoryBackend;
import dev.errand.spi.FlowLimit;
import dev.errand.spi.LimitStats;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The seed cases of docs/flow-control.md enqueue under the limits the page says. */
class FlowControlExamplesTest {

  final InMemoryBackend backend = new InMemoryBackend(java.time.Clock.systemUTC());
  final Client client = Client.create(backend);

  @Test
  void eachSeedCaseIsLimitedAsDescribed() {
    client.enqueue(FlowControlExamples.SEND_EMAIL, new FlowControlExamples.Email("a@b.c", "hi"));
    client.enqueue(
        FlowControlExamples.PUT_RECORDS, new FlowControlExamples.Records("7", List.of("r")));
    client.enqueue(
        FlowControlExamples.DELIVER_WEBHOOK,
        new FlowControlExamples.Webhook("https://partner.example/hook", "{}"));

    assertThat(limits("email")).containsExactly(new FlowLimit("task:emails.send", 10, 1000, 1, 0));
    assertThat(limits("default"))
        .containsExactlyInAnyOrder(
            new FlowLimit("shard:7", 1000, 1000, 100, 0),
            new FlowLimit("endpoint:partner.example", 30, 60_000, 1, 2));
  }

  @Test
  void aSecondBackupWhileTheFirstIsQueuedReturnsTheFirst() {
    String first = FlowControlExamples.nightly(client);
    assertThat(FlowControlExamples.nightly(client)).isEqualTo(first);
  }

  private List<FlowLimit> limits(String queue) {
    return backend.broker().limits(queue, 10).stream().map(LimitStats::limit).toList();
  }
}
