package dev.errand.worker;

import static dev.errand.worker.Tasks.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.BackendException;
import dev.errand.DeadLetter;
import dev.errand.DeadLetterReason;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An outcome that can never be stored is that task's failure — a dead letter with the reason — and
 * never a stall: the outcomes behind it are stored, and the worker goes on consuming.
 */
class UnstorableOutcomeTest extends WorkerTestSupport {

  private static boolean resultIs(TaskStatus s, String text) {
    return s.result() != null && s.result().asText().equals(text);
  }

  private Worker start(AtomicInteger runs) {
    return startWorker(
        new TaskRegistry().handle(JOB, (job, ctx) -> runs.incrementAndGet() + " " + job.label()),
        o -> o.concurrency(1).heartbeatInterval(Duration.ofMillis(50)));
  }

  @Test
  void anOutcomeThatCannotBeEncodedEndsAsADeadLetterAndTheWorkerGoesOn() throws Exception {
    backend.statusFault =
        s ->
            resultIs(s, "1 poison")
                ? new UncheckedIOException(
                    new java.io.IOException("injected: document nesting depth exceeds 1000"))
                : null;
    AtomicInteger runs = new AtomicInteger();
    Worker w = start(runs);

    AsyncResult<String> poison = client.enqueue(JOB, new Tasks.Job("poison"));
    awaitState(poison, TaskState.FAILURE);
    AsyncResult<String> next = client.enqueue(JOB, new Tasks.Job("fine"));

    assertThat(next.get(WAIT)).isEqualTo("2 fine");
    TaskStatus failed = poison.status();
    assertThat(failed.error().type()).isEqualTo("OutcomeNotStored");
    assertThat(failed.error().message()).contains("injected: document nesting depth");
    DeadLetter dl = client.deadLetters().get(poison.id()).orElseThrow();
    assertThat(dl.reason()).isEqualTo(DeadLetterReason.UNSTORABLE);
    assertThat(dl.body()).contains("\"label\":\"poison\""); // kept, so it can be re-driven
    await().atMost(WAIT).until(() -> backend.broker().stats("default").leased() == 0);
    assertThat(w.isConsuming()).isTrue();
    assertThat(runs).hasValue(2);
  }

  @Test
  void anOutcomeTheBackendRefusesWhileAnsweringEverythingElseEndsAsADeadLetter() throws Exception {
    backend.statusFault =
        s ->
            resultIs(s, "1 refused")
                ? new BackendException("injected: WRONGTYPE for this key only", null)
                : null;
    AtomicInteger runs = new AtomicInteger();
    Worker w = start(runs);

    AsyncResult<String> refused = client.enqueue(JOB, new Tasks.Job("refused"));
    AsyncResult<String> next = client.enqueue(JOB, new Tasks.Job("fine"));

    assertThat(next.get(WAIT)).isEqualTo("2 fine");
    awaitState(refused, TaskState.FAILURE);
    assertThat(refused.status().error().message()).contains("WRONGTYPE for this key only");
    assertThat(client.deadLetters().get(refused.id()).orElseThrow().reason())
        .isEqualTo(DeadLetterReason.UNSTORABLE);
    await().atMost(WAIT).until(() -> backend.broker().stats("default").leased() == 0);
    assertThat(w.isConsuming()).isTrue();
    assertThat(runs).hasValue(2);
  }

  @Test
  void aDeadLetterOfAnUnstorableOutcomeCanBeRedrivenOnceTheCauseIsGone() throws Exception {
    backend.statusFault =
        s -> resultIs(s, "1 later") ? new IllegalStateException("injected: cannot encode") : null;
    AtomicInteger runs = new AtomicInteger();
    start(runs);
    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("later"));
    awaitState(r, TaskState.FAILURE);

    backend.statusFault = s -> null;
    assertThat(client.deadLetters().redrive(r.id())).isTrue();

    assertThat(r.get(WAIT)).isEqualTo("2 later");
  }

  @Test
  void writesRefusedWhileTheBackendIsUnavailableAreRetriedForAsLongAsItTakes() throws Exception {
    // Like a Redis out of memory or a read-only replica: heartbeats go through, writes do not.
    backend.statusFault =
        s -> new dev.errand.BackendUnavailableException("injected: OOM command not allowed", null);
    AtomicInteger runs = new AtomicInteger();
    Worker w = start(runs);

    AsyncResult<String> r = client.enqueue(JOB, new Tasks.Job("patient"));
    await().atMost(WAIT).until(() -> runs.get() == 1);
    await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> r.state() != TaskState.FAILURE);
    backend.statusFault = s -> null;

    assertThat(r.get(WAIT)).isEqualTo("1 patient");
    assertThat(client.deadLetters().count(null)).isZero();
    assertThat(runs).hasValue(1);
    await().atMost(WAIT).until(w::isConsuming);
  }
}
