package com.example.readme;

// readme:begin defining-tasks
import dev.errand.AsyncResult;
import dev.errand.RetryPolicy;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import java.io.IOException;
import java.time.Duration;
// readme:end
// readme:begin handlers
import dev.errand.worker.TaskRegistry;
import dev.errand.worker.Worker;
import dev.errand.worker.WorkerOptions;
// readme:end

/** The task definitions and handlers of the README's "Defining tasks" and "Handlers". */
final class Tasks {
  private Tasks() {}

  // readme:begin defining-tasks
  record SendEmail(String to, String subject, String body) {}

  static final TaskDef<SendEmail, Void> SEND_EMAIL =
      TaskDef.builder("emails.send", SendEmail.class, Void.class)
          .options(TaskOptions.builder()
              .queue("email")                     // only a worker that consumes "email" runs it
              .retry(RetryPolicy.builder().maxRetries(5).retryOn(IOException.class).build())
              .softTimeLimit(Duration.ofSeconds(30))
              .build())
          .build();
  // readme:end

  static final TaskDef<Export, ExportResult> EXPORT =
      TaskDef.of("exports.csv", Export.class, ExportResult.class);
  static final TaskDef<Order, Void> CHARGE = TaskDef.of("payments.charge", Order.class);
  static final TaskDef<ApiCall, ApiReply> CALL_API =
      TaskDef.of("crm.call", ApiCall.class, ApiReply.class);

  record Export(String table) {}

  record ExportResult(String url) {}

  record Order(String id, long cents) {}

  record ApiCall(String path) {}

  record ApiReply(int status) {}

  static AsyncResult<Void> sendWelcome(dev.errand.Client client, SendEmail mail, String userId) {
    // readme:begin defining-tasks
    AsyncResult<Void> sent = client.enqueue(SEND_EMAIL, mail, TaskOptions.builder()
        .priority(9)                          // 0-9, 9 runs first
        .countdown(Duration.ofMinutes(5))     // or .eta(instant)
        .expires(Duration.ofHours(1))         // not started by then: REVOKED "expired"
        .idempotencyKey("welcome:" + userId)  // a second enqueue returns the first task's id
        .build());
    // readme:end
    return sent;
  }

  static Worker startWorker(
      dev.errand.spi.Backend backend, Mailer mailer, Exports exports, Payments payments, Api api) {
    // readme:begin handlers
    TaskRegistry tasks = new TaskRegistry()
        .handleVoid(SEND_EMAIL, (mail, ctx) -> mailer.send(mail))   // an IOException is retried
        .handle(EXPORT, (req, ctx) -> {
          int rows = exports.count(req);
          for (int i = 0; i < rows; i++) {
            ctx.checkCancelled();                       // soft time limit or revoke
            exports.write(req, i);
            ctx.progress(i + 1, rows);                  // state PROGRESS, readable by the caller
          }
          return new ExportResult(exports.url(req));
        })
        .handleVoid(CHARGE, (order, ctx) -> {
          if (ctx.once("charge:" + order.id())) {       // at most once per key, across retries
            payments.charge(order);
          }
        })
        .handle(CALL_API, (req, ctx) -> {
          try { return api.call(req); }
          catch (RateLimited e) { throw ctx.retry(e, e.retryAfter()); }
        });

    Worker worker = Worker.builder(backend)
        .tasks(tasks)
        .options(WorkerOptions.builder()
            .queues("email", "default")   // SEND_EMAIL's queue, and that of tasks naming none
            .concurrency(8)
            .build())
        .build()
        .start();                         // warns about tasks routed to queues it does not consume
    Runtime.getRuntime().addShutdownHook(new Thread(worker::close));   // finish running tasks
    // readme:end
    return worker;
  }
}
