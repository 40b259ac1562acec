package dev.errand.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.errand.AsyncResult;
import dev.errand.ResultTimeoutException;
import dev.errand.Routes;
import dev.errand.TaskDef;
import dev.errand.TaskOptions;
import dev.errand.worker.internal.RoutingCheck;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A worker warns at start about tasks whose messages go to a queue it does not consume. */
class WorkerRoutingWarningTest extends WorkerTestSupport {

  static final TaskDef<Tasks.Job, Void> SEND =
      TaskDef.builder("emails.send", Tasks.Job.class, Void.class)
          .options(TaskOptions.builder().queue("email").build())
          .build();
  static final TaskDef<Tasks.Job, Void> DIGEST = TaskDef.of("emails.digest", Tasks.Job.class);

  final Logger logger = (Logger) LoggerFactory.getLogger(RoutingCheck.class);
  final ListAppender<ILoggingEvent> recorded = new ListAppender<>();

  @BeforeEach
  void record() {
    recorded.start();
    logger.addAppender(recorded);
  }

  @AfterEach
  void stopRecording() {
    logger.detachAppender(recorded);
  }

  TaskRegistry tasks() {
    return new TaskRegistry()
        .handleVoid(SEND, (job, ctx) -> {})
        .handleVoid(DIGEST, (job, ctx) -> {})
        .handle(Tasks.ADD, (a, ctx) -> a.x() + a.y());
  }

  List<String> warnings() {
    return recorded.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void warnsOnceForATaskDefinedOnAQueueItDoesNotConsume() {
    startWorker(tasks(), o -> o.queues("default"));

    assertThat(warnings())
        .containsExactly(
            "task emails.send routes to queue 'email', which this worker does not consume (it"
                + " consumes [default]); its messages will wait for another worker");
  }

  @Test
  void aWorkerOnItsDefaultQueueWarnsAndAWaitForTheTaskSaysNoWorkerConsumesItsQueue() {
    // The README's own trap: a task defined on "email", a worker built without naming queues.
    startWorker(tasks(), o -> {});
    assertThat(warnings())
        .containsExactly(
            "task emails.send routes to queue 'email', which this worker does not consume (it"
                + " consumes [default]); its messages will wait for another worker");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> !backend.workers().live().isEmpty());

    AsyncResult<Void> r = client.enqueue(SEND, new Tasks.Job("x"));

    assertThatThrownBy(() -> r.get(Duration.ofMillis(50)))
        .isInstanceOfSatisfying(
            ResultTimeoutException.class, e -> assertThat(e.unconsumedQueue()).contains("email"))
        .hasMessageContaining(
            "no live worker consumes its queue 'email' (live workers consume [default])");
  }

  @Test
  void theAppsRoutesDecideBeforeTheDefinition() {
    Routes routes = Routes.builder().route("emails.*", "mail").build();
    startWorker(tasks(), o -> o.queues("email", "default"), b -> b.routes(routes));

    assertThat(warnings())
        .containsExactly(
            "task emails.digest routes to queue 'mail', which this worker does not consume (it"
                + " consumes [email, default]); its messages will wait for another worker",
            "task emails.send routes to queue 'mail', which this worker does not consume (it"
                + " consumes [email, default]); its messages will wait for another worker");
  }

  @Test
  void saysNothingWhenEveryNamedQueueIsConsumed() {
    startWorker(tasks(), o -> o.queues("default", "email"));

    assertThat(warnings()).isEmpty();
  }

  @Test
  void tasksSentByTheWorkersClientFollowTheRoutes() throws Exception {
    Routes routes = Routes.builder().route("math.*", "numbers").build();
    TaskRegistry tasks =
        new TaskRegistry()
            .handleVoid(SEND, (job, ctx) -> ctx.client().enqueue(Tasks.ADD, new Tasks.Add(1, 2)));
    startWorker(tasks, o -> o.queues("email"), b -> b.routes(routes));

    client.enqueue(SEND, new Tasks.Job("x"));

    org.awaitility.Awaitility.await()
        .atMost(WAIT)
        .until(() -> backend.broker().stats("numbers").ready() == 1);
  }
}
