package com.example.readme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.worker.Eager;
import dev.errand.worker.TaskRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The seed cases of docs/workflows.md do what the page says, in eager mode. */
class WorkflowExamplesTest {

  final List<String> log = new CopyOnWriteArrayList<>();

  Client client() {
    TaskRegistry tasks =
        new TaskRegistry()
            .handle(
                WorkflowExamples.CHARGE,
                (o, ctx) -> new WorkflowExamples.Payment(o.id(), "pay-" + o.id()))
            .handle(
                WorkflowExamples.RESERVE_STOCK,
                (p, ctx) -> new WorkflowExamples.Reservation(p.orderId(), "berlin"))
            .handleVoid(
                WorkflowExamples.SEND_CONFIRMATION, (r, ctx) -> log.add("confirmed " + r.orderId()))
            .handleVoid(WorkflowExamples.ALERT_OPS, (f, ctx) -> log.add("alert " + f.task()))
            .handleVoid(WorkflowExamples.SYNC_PRODUCT, (id, ctx) -> {})
            .handle(
                WorkflowExamples.EXPORT_PART,
                (p, ctx) ->
                    new WorkflowExamples.PartFile("/tmp/" + p.exportId() + "-" + p.part(), 10))
            .handle(
                WorkflowExamples.BUILD_FILE,
                (parts, ctx) ->
                    URI.create("https://files.example.com/" + parts.files().size() + "-parts.csv"))
            .handleVoid(WorkflowExamples.NOTIFY_USER, (uri, ctx) -> log.add("notified " + uri));
    return Eager.client(tasks);
  }

  @Test
  void orderPipelineRunsItsStepsInOrder() throws Exception {
    AsyncResult<Void> done =
        WorkflowExamples.placeOrder(client(), new WorkflowExamples.Order("o-1", 4200));

    assertThat(done.state()).isEqualTo(TaskState.SUCCESS);
    assertThat(log).containsExactly("confirmed o-1");
  }

  @Test
  void productResyncIsAChunkedGroupReadableById() {
    Client client = client();
    String id = WorkflowExamples.startResync(client, LongStream.range(0, 1_000).boxed().toList());

    assertThat(client.groupResult(id).orElseThrow().size()).isEqualTo(10);
    assertThat(WorkflowExamples.progress(client, id)).isEqualTo("10 of 10 done, 0 failed");
  }

  @Test
  void exportBuildsTheFileFromEveryPartThenNotifies() throws Exception {
    AsyncResult<Void> notified = WorkflowExamples.export(client(), "e-7", 4);

    assertThat(notified.get(Duration.ZERO)).isNull();
    assertThat(log).containsExactly("notified https://files.example.com/4-parts.csv");
  }
}
