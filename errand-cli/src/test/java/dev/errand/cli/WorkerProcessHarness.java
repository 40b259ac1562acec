package dev.errand.cli;

import dev.errand.AsyncResult;
import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.spi.Backend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the worker process tests share: a backend for the test (and a client on it), {@code errand
 * worker} processes running {@link ItApp} (killed after the test), and tasks that log each run to a
 * file.
 */
abstract class WorkerProcessHarness {

  @TempDir Path dir;

  @RegisterExtension
  final TestExecutionExceptionHandler printOutputs = ErrandProcess.printOutputsOnFailure(() -> dir);

  String url;
  Path log;
  Backend backend;
  Client client;
  final List<Process> processes = new ArrayList<>();

  /** The URL of a new, empty backend for one test. */
  abstract String newBackendUrl(Path dir);

  /** Deletes what the test left in the backend; after the backend is closed. */
  void cleanUp() {}

  @BeforeEach
  void open() {
    url = newBackendUrl(dir);
    log = dir.resolve("runs.log");
    backend = Backends.open(url);
    client = Client.create(backend);
  }

  @AfterEach
  void close() throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    backend.close();
    cleanUp();
  }

  Process worker(String name, String... extra) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of("worker", "--app", ItApp.class.getName(), "--broker", url, "--name", name));
    args.addAll(List.of(extra));
    Process p = ErrandProcess.start(dir, name, args);
    processes.add(p);
    return p;
  }

  /**
   * The pid of the process that runs the tasks: the child of {@code errand worker}'s supervisor.
   */
  static long workerPid(Process worker) {
    return worker.descendants().mapToLong(ProcessHandle::pid).findFirst().orElse(worker.pid());
  }

  AsyncResult<Integer> send(int n, int ms) {
    return client.enqueue(ItApp.WORK, new ItApp.Work(n, ms, log.toString()));
  }
}
