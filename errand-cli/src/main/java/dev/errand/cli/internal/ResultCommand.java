package dev.errand.cli.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.AsyncResult;
import dev.errand.Client;
import dev.errand.ErrandException;
import dev.errand.ResultTimeoutException;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.wire.Wire;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code errand result}: prints a task's state and result or error; the exit code says which. */
@Command(
    name = "result",
    mixinStandardHelpOptions = true,
    description = {
      "Print a task's state and result (or error and traceback).",
      "Exit code: 0 SUCCESS, 1 FAILURE or REVOKED, 3 not ready, 4 no task with this id is known."
    })
final class ResultCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;
  @Mixin OutputOptions output;

  @Parameters(index = "0", paramLabel = "ID", description = "Task id.")
  String id;

  @Option(
      names = {"-w", "--wait"},
      paramLabel = "DURATION",
      description = "Wait up to this long for the outcome (positive).")
  Duration wait;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    Checks.positive("--wait", wait);
    try (Backend b = backend.openReadOnly()) {
      AsyncResult<?> r = Client.builder(b).build().result(id);
      if (wait != null) {
        try {
          r.get(wait);
        } catch (ResultTimeoutException notYet) {
          // reported below from the status
        } catch (ErrandException failedOrRevoked) {
          // reported below from the status
        }
      }
      // Without a status, PENDING would be printed for any string; say so if nothing knows the id.
      if (!TaskRecords.known(b, id)) {
        throw TaskRecords.unknown(id);
      }
      TaskStatus s = r.status();
      print(s);
      if (s.state() == TaskState.SUCCESS) {
        return 0;
      }
      return s.state().isReady() ? ErrandCommand.FAILURE : ErrandCommand.NOT_READY;
    }
  }

  private void print(TaskStatus s) {
    PrintWriter out = spec.commandLine().getOut();
    if (output.json) {
      ObjectNode o = Wire.mapper().valueToTree(s);
      OutputOptions.printJson(out, o);
      return;
    }
    CommandLine.Help.Ansi ansi = spec.commandLine().getColorScheme().ansi();
    out.println(ansi.string("@|bold " + s.id() + "|@  " + StateColors.colored(s.state())));
    if (s.name() != null) out.println("task:     " + s.name());
    if (s.worker() != null)
      out.println("worker:   " + s.worker() + " (attempt " + s.attempt() + ")");
    if (s.progress() != null) out.println("progress: " + s.progress());
    if (s.reason() != null) out.println("reason:   " + s.reason());
    if (s.retryAt() != null && s.state() == TaskState.RETRY)
      out.println("retry at: " + s.retryAt());
    if (s.state() == TaskState.SUCCESS) {
      out.println("result:   " + (s.result() == null ? "null" : s.result().toString()));
    }
    if (s.error() != null) {
      out.println(ansi.string("error:    @|red " + s.error() + "|@"));
      if (s.error().traceback() != null) {
        out.println(s.error().traceback().stripTrailing());
      }
    }
    out.flush();
  }
}
