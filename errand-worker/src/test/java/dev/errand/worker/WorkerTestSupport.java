package dev.errand.worker;

import static org.awaitility.Awaitility.await;

import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.TaskState;
import dev.errand.memory.InMemoryBackend;
import dev.errand.test.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A controllable clock, an in-memory backend and a client, with workers closed after each test. */
abstract class WorkerTestSupport {

  static final Duration WAIT = Duration.ofSeconds(10);

  MutableClock clock;
  RecordingBackend backend;
  Client client;
  private final List<Worker> workers = new ArrayList<>();

  @BeforeEach
  void setUpBackend() {
    clock = new MutableClock();
    backend = new RecordingBackend(new InMemoryBackend(clock));
    client = Client.builder(backend).clock(clock).build();
  }

  @AfterEach
  void closeWorkers() {
    for (Worker w : workers) {
      w.shutdown(Duration.ofSeconds(2));
    }
    backend.close();
  }

  /** Test defaults: fast polling, short shutdown; customise with {@code options}. */
  Worker startWorker(TaskRegistry tasks, Consumer<WorkerOptions.Builder> options) {
    return startWorker(tasks, options, b -> {});
  }

  Worker startWorker(
      TaskRegistry tasks,
      Consumer<WorkerOptions.Builder> options,
      Consumer<Worker.Builder> builder) {
    WorkerOptions.Builder o =
        WorkerOptions.builder()
            .concurrency(2)
            .pollInterval(Duration.ofMillis(100))
            .shutdownTimeout(Duration.ofSeconds(2));
    options.accept(o);
    Worker.Builder b = Worker.builder(backend).tasks(tasks).options(o.build()).clock(clock);
    builder.accept(b);
    Worker w = b.build();
    workers.add(w);
    return w.start();
  }

  static void awaitState(AsyncResult<?> r, TaskState state) {
    await().atMost(WAIT).until(() -> r.state() == state);
  }
}
