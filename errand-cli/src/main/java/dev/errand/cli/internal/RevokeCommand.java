package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.spi.Backend;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code errand revoke ID}. */
@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    description =
        "Revoke a task: skipped if not started, interrupted if running. Exit 1 if it was already finished.")
final class RevokeCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;

  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    try (Backend b = backend.open()) {
      boolean revoked = Client.builder(b).build().revoke(id);
      spec.commandLine()
          .getOut()
          .println(revoked ? "revoked " + id : id + " is already finished; nothing revoked");
      spec.commandLine().getOut().flush();
      return revoked ? 0 : ErrandCommand.FAILURE;
    }
  }
}
