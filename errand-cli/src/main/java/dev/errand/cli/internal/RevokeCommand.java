package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.spi.Backend;
import dev.errand.workflow.WorkflowState;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code errand revoke ID [--force]} and {@code errand revoke --workflow ID}. */
@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    description = {
      "Revoke a task: skipped if not started, interrupted if running.",
      "Exit 1 if it had already finished, 4 if no task with this id is known.",
      "--force revokes an id before its task is sent.",
      "--workflow revokes every task of a workflow not finished yet, the steps not sent",
      "yet included; exit 1 if none was left, 4 if no workflow has this id."
    })
final class RevokeCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;

  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @Option(
      names = "--force",
      description =
          "Revoke even if no record knows the id: a mark, kept for a day, that skips the task if"
              + " it is sent later (as Celery revokes).")
  boolean force;

  @Option(
      names = "--workflow",
      description =
          "ID is a workflow's (errand inspect workflow ID): revoke each of its tasks not finished"
              + " yet, and print how many.")
  boolean workflow;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (workflow && force) {
      throw new UsageException(
          "--force and --workflow exclude each other: a workflow's tasks are known from its"
              + " record");
    }
    if (workflow) {
      return revokeWorkflow();
    }
    try (Backend b = backend.open()) {
      boolean known = TaskRecords.known(b, id);
      if (!known && !force) {
        throw new NotFoundException(
            TaskRecords.unknown(id).getMessage()
                + "; to revoke it before its task is sent, add --force");
      }
      boolean revoked = Client.builder(b).build().revoke(id);
      PrintWriter out = spec.commandLine().getOut();
      if (!revoked) {
        out.println(id + " is already finished; nothing revoked");
      } else if (known) {
        out.println("revoked " + id);
      } else {
        out.println(
            "revoked "
                + id
                + " in advance: no task has this id yet; one sent within "
                + DurationConverter.format(Client.DEFAULT_REVOKE_TTL)
                + " is skipped");
      }
      out.flush();
      return revoked ? 0 : ErrandCommand.FAILURE;
    }
  }

  /** Revokes every task of the workflow not finished yet; exit 1 if none was left. */
  private int revokeWorkflow() {
    try (Backend b = backend.open()) {
      WorkflowState before = InspectWorkflowCommand.read(b, id);
      long finished = before.steps().stream().filter(s -> s.state().isReady()).count();
      int revoked = Client.builder(b).build().revokeWorkflow(id);
      PrintWriter out = spec.commandLine().getOut();
      if (revoked == 0) {
        out.println(
            "workflow "
                + id
                + " has no task left to revoke: every task has finished; nothing revoked");
      } else {
        out.println(
            "revoked "
                + revoked
                + " of "
                + before.steps().size()
                + " tasks of workflow "
                + id
                + " ("
                + finished
                + " had already finished)");
      }
      out.flush();
      return revoked > 0 ? 0 : ErrandCommand.FAILURE;
    }
  }
}
