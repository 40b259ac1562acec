package dev.errand.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskDef;
import dev.errand.TaskState;
import dev.errand.memory.InMemoryBackend;
import dev.errand.test.ErrandExtension;
import dev.errand.test.MutableClock;
import dev.errand.test.RecordingClient;
import dev.errand.wire.CallHistory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@link RecordingClient} drained into an eager client over the same stores runs what was
 * recorded, Sidekiq's {@code drain}: tasks those tasks enqueue are recorded and run too, and the
 * handles the recording client returned see the outcomes.
 */
@ExtendWith(ErrandExtension.class)
class RecordingClientDrainTest {

  record Signup(String address) {}

  record SendEmail(String to) {}

  static final TaskDef<Signup, String> SIGNUP =
      TaskDef.of("users.signup", Signup.class, String.class);
  static final TaskDef<SendEmail, Void> SEND_EMAIL = TaskDef.of("emails.send", SendEmail.class);

  @Test
  void drainingIntoAnEagerClientRunsTheRecordedTasksAndWhatTheyEnqueue(
      RecordingClient client, InMemoryBackend backend, MutableClock clock) {
    List<String> sent = new CopyOnWriteArrayList<>();
    // The application's code enqueues through the client it was given: here, the recording one.
    TaskRegistry tasks =
        new TaskRegistry()
            .handle(
                SIGNUP,
                (s, ctx) -> {
                  client.enqueue(SEND_EMAIL, new SendEmail(s.address()));
                  return "registered " + s.address();
                })
            .handleVoid(SEND_EMAIL, (m, ctx) -> sent.add(m.to()));
    Client eager = Eager.builder(tasks).stores(backend).clock(clock).build();

    AsyncResult<String> signup = client.enqueue(SIGNUP, new Signup("ada@example.com"));
    assertThat(client.enqueued(SEND_EMAIL)).isEmpty();
    List<AsyncResult<JsonNode>> drained = client.drainTo(eager);

    assertThat(sent).containsExactly("ada@example.com");
    assertThat(drained).extracting(AsyncResult::state).containsOnly(TaskState.SUCCESS);
    assertThat(drained.get(1).status().parentId()).isEqualTo(signup.id());
    assertThat(signup.state()).isEqualTo(TaskState.SUCCESS);
    assertThat(signup.toCompletableFuture().join()).isEqualTo("registered ada@example.com");
    assertThat(client.enqueued()).isEmpty();
  }

  @Test
  void aRecordedCallKnowsTheTaskThatSentIt(RecordingClient client, InMemoryBackend backend) {
    TaskRegistry tasks =
        new TaskRegistry()
            .handle(
                SIGNUP,
                (s, ctx) -> {
                  client.enqueue(SEND_EMAIL, new SendEmail(s.address()));
                  return "ok";
                });
    AsyncResult<String> signup =
        Eager.builder(tasks).stores(backend).build().enqueue(SIGNUP, new Signup("bob@example.com"));

    assertThat(client.enqueued(SEND_EMAIL))
        .singleElement()
        .satisfies(
            call -> {
              assertThat(call.argument()).isEqualTo(new SendEmail("bob@example.com"));
              assertThat(call.headers()).containsEntry(CallHistory.PARENT_HEADER, signup.id());
              assertThat(call.delay()).isEqualTo(Duration.ZERO);
            });
  }
}
