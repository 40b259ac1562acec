package com.example.readme;

// readme:begin workflow-order
import dev.errand.AsyncResult;
import dev.errand.TaskDef;
import dev.errand.workflow.Chain;
import dev.errand.workflow.FailedTask;
import dev.errand.workflow.Signature;
// readme:end
// readme:begin workflow-sync
import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.workflow.GroupResult;
import dev.errand.workflow.Workflows;
import java.util.List;
// readme:end
// readme:begin workflow-export
import dev.errand.ChordPolicy;
import java.net.URI;
// readme:end

/** The seed cases of docs/workflows.md, compiled and run by {@code WorkflowExamplesTest}. */
final class WorkflowExamples {
  private WorkflowExamples() {}

  // readme:begin workflow-order
  record Order(String id, long cents) {}

  record Payment(String orderId, String paymentId) {}

  record Reservation(String orderId, String warehouse) {}

  static final TaskDef<Order, Payment> CHARGE =
      TaskDef.of("orders.charge", Order.class, Payment.class);
  static final TaskDef<Payment, Reservation> RESERVE_STOCK =
      TaskDef.of("orders.reserve_stock", Payment.class, Reservation.class);
  static final TaskDef<Reservation, Void> SEND_CONFIRMATION =
      TaskDef.of("orders.send_confirmation", Reservation.class);
  static final TaskDef<FailedTask, Void> ALERT_OPS = TaskDef.of("ops.alert", FailedTask.class);
  // readme:end

  static AsyncResult<Void> placeOrder(dev.errand.Client client, Order order) {
    // readme:begin workflow-order
    // Each step gets the previous step's result as its argument (checked at compile time).
    AsyncResult<Void> done = client.send(
        Chain.of(Signature.of(CHARGE, order).linkError(Signature.receiving(ALERT_OPS)))
            .then(RESERVE_STOCK)
            .then(SEND_CONFIRMATION));
    // readme:end
    return done;
  }

  // readme:begin workflow-sync
  static final TaskDef<Long, Void> SYNC_PRODUCT = TaskDef.of("catalog.sync_product", Long.class);
  // readme:end

  static String startResync(dev.errand.Client client, List<Long> productIds) {
    // readme:begin workflow-sync
    // 100,000 products, 100 per task: 1,000 messages, sent in batches of 500.
    GroupResult<List<Void>> sync = client.send(Workflows.chunks(SYNC_PRODUCT, productIds, 100));
    String id = sync.id(); // answer 202 with it
    // readme:end
    return id;
  }

  static String progress(dev.errand.Client client, String id) {
    // readme:begin workflow-sync
    // Later, in another request or process:
    GroupResult<JsonNode> later = client.groupResult(id).orElseThrow();
    String text = later.completed() + " of " + later.size() + " done, " + later.failed() + " failed";
    // readme:end
    return text;
  }

  // readme:begin workflow-export
  record ExportPart(String exportId, int part) {}

  record PartFile(String path, int rows) {}

  record Parts(List<PartFile> files) {}

  static final TaskDef<ExportPart, PartFile> EXPORT_PART =
      TaskDef.of("exports.part", ExportPart.class, PartFile.class);
  static final TaskDef<Parts, URI> BUILD_FILE = TaskDef.of("exports.build_file", Parts.class, URI.class);
  static final TaskDef<URI, Void> NOTIFY_USER = TaskDef.of("exports.notify_user", URI.class);
  // readme:end

  static AsyncResult<Void> export(dev.errand.Client client, String exportId, int parts) {
    // readme:begin workflow-export
    List<Signature<PartFile>> members = new java.util.ArrayList<>();
    for (int part = 0; part < parts; part++) {
      members.add(Signature.of(EXPORT_PART, new ExportPart(exportId, part)));
    }
    // The callback runs once, when every part is done, with the parts in order; then the user
    // gets the link. A failed part (after its retries) fails the export instead (ChordPolicy.FAIL).
    AsyncResult<Void> notified = client.send(
        Workflows.chord(Workflows.group(members),
                Chain.of(Signature.receiving(BUILD_FILE)).then(NOTIFY_USER))
            .policy(ChordPolicy.FAIL));
    // readme:end
    return notified;
  }
}
