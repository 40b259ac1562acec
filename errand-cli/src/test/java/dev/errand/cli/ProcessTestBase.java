package dev.errand.cli;

import dev.errand.Backends;
import dev.errand.Client;
import dev.errand.spi.Backend;
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
 * What every test of {@code errand} child processes starts from: a temporary directory (whose
 * {@code *.out} files, the processes' output, are printed when a test fails), a new backend for the
 * test with a client on it, a file tasks may log their runs to, and the processes the test started,
 * SIGKILLed after it with their children. Subclassed once per backend through {@link
 * #newBackendUrl}.
 */
abstract class ProcessTestBase {

  @TempDir Path dir;

  @RegisterExtension
  final TestExecutionExceptionHandler printOutputs = ErrandProcess.printOutputsOnFailure(() -> dir);

  String url;
  Path log;
  Backend backend;
  Client client;

  /** Every process the test started; killed after it. */
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
      // An errand worker is a supervisor and the child that runs the tasks: kill both.
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    backend.close();
    cleanUp();
  }
}
