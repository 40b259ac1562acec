package com.example.readme;

// readme:begin flow-email
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
// readme:end
// readme:begin flow-backup
import dev.errand.AsyncResult;
// readme:end

/** The seed cases of docs/flow-control.md, compiled and run by {@code FlowControlExamplesTest}. */
final class FlowControlExamples {
  private FlowControlExamples() {}

  // readme:begin flow-email
  record Email(String to, String subject) {}

  // The provider allows 10 requests a second: 10 starts a second across every worker.
  static final TaskDef<Email, Void> SEND_EMAIL =
      TaskDef.builder("emails.send", Email.class, Void.class)
          .options(TaskOptions.builder().queue("email").rateLimit("10/s").build())
          .build();
  // readme:end

  // readme:begin flow-stream
  record Records(String shard, java.util.List<String> lines) {}

  // At most 1,000 puts a second per shard (up to 100 at once after a pause); each shard its own.
  static final TaskDef<Records, Void> PUT_RECORDS =
      TaskDef.builder("stream.put_records", Records.class, Void.class)
          .options(TaskOptions.builder().rateLimit("1000/s").rateBurst(100).build())
          .limitKey(r -> "shard:" + r.shard())
          .build();
  // readme:end

  // readme:begin flow-webhook
  record Webhook(String endpoint, String payload) {}

  // A partner's endpoint takes 30 calls a minute and 2 at a time; other endpoints are not held up.
  static final TaskDef<Webhook, Void> DELIVER_WEBHOOK =
      TaskDef.builder("webhooks.deliver", Webhook.class, Void.class)
          .options(TaskOptions.builder().rateLimit("30/m").concurrencyLimit(2).build())
          .limitKey(w -> "endpoint:" + java.net.URI.create(w.endpoint()).getHost())
          .build();
  // readme:end

  // readme:begin flow-backup
  record Backup(String database) {}

  // One backup per database at a time: queued, running or waiting to retry.
  static final TaskDef<Backup, Void> BACKUP =
      TaskDef.builder("backups.run", Backup.class, Void.class)
          .uniqueKey(b -> "backup:" + b.database())
          .build();
  // readme:end

  static String nightly(dev.errand.Client client) {
    // readme:begin flow-backup

    // The scheduler's nightly run, or an operator's click: while one runs, a second call returns it.
    AsyncResult<Void> backup = client.enqueue(BACKUP, new Backup("orders"));
    String runningId = backup.id();
    // readme:end
    return runningId;
  }
}
