package dev.errand.cli;

import dev.errand.AsyncResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the worker process tests share beyond {@link ProcessTestBase}: {@code errand worker}
 * processes running {@link ItApp}, and tasks that log each run to {@link #log}.
 */
abstract class WorkerProcessHarness extends ProcessTestBase {

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
