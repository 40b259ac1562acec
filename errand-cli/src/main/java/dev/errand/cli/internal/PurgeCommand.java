package dev.errand.cli.internal;

import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code errand purge QUEUE}: deletes the ready and delayed messages of a queue. */
@Command(
    name = "purge",
    mixinStandardHelpOptions = true,
    description = "Delete every ready and delayed message of a queue (running ones finish).")
final class PurgeCommand implements Callable<Integer> {

  @Mixin BackendOptions backend;

  @Parameters(index = "0", paramLabel = "QUEUE")
  String queue;

  @Option(
      names = {"-y", "--yes"},
      description = "Do not ask for confirmation.")
  boolean yes;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    TaskOptions.validQueue(queue); // a name no task can be sent to is a typo, not "0 deleted"
    try (Backend b = backend.open()) {
      long waiting = b.broker().stats(queue).ready() + b.broker().stats(queue).delayed();
      if (!yes) {
        if (System.console() == null) {
          throw new UsageException(
              "purging "
                  + waiting
                  + " messages of '"
                  + queue
                  + "' needs --yes when not run on a terminal");
        }
        spec.commandLine()
            .getOut()
            .printf("Delete %d messages from queue '%s'? [y/N] ", waiting, queue);
        spec.commandLine().getOut().flush();
        String answer =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (answer == null || !answer.trim().equalsIgnoreCase("y")) {
          spec.commandLine().getOut().println("nothing deleted");
          return ErrandCommand.FAILURE;
        }
      }
      long deleted = b.broker().purge(queue);
      spec.commandLine().getOut().println("deleted " + deleted + " messages from '" + queue + "'");
      spec.commandLine().getOut().flush();
    }
    return 0;
  }
}
