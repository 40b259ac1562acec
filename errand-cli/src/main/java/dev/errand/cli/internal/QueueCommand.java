package dev.errand.cli.internal;

import dev.errand.TaskOptions;
import dev.errand.spi.Backend;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code errand queue pause NAME | resume NAME | paused}. */
@Command(
    name = "queue",
    mixinStandardHelpOptions = true,
    description = "Pause and resume queues: workers claim nothing from a paused queue.",
    subcommands = {QueueCommand.Pause.class, QueueCommand.Resume.class, QueueCommand.Paused.class})
final class QueueCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "say what to do: pause QUEUE, resume QUEUE or paused");
  }

  @Command(
      name = "pause",
      mixinStandardHelpOptions = true,
      description = {
        "Pause a queue: from now on no worker claims from it, until it is resumed.",
        "Enqueues still land in it; running tasks finish; nothing is lost."
      })
  static final class Pause implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Parameters(index = "0", paramLabel = "QUEUE")
    String queue;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      TaskOptions.validQueue(queue);
      try (Backend b = backend.open()) {
        b.broker().pause(queue);
        long waiting = b.broker().stats(queue).ready();
        print(spec, output, queue, true, "paused '" + queue + "' (" + waiting + " ready wait)");
      }
      return 0;
    }
  }

  @Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = "Resume a paused queue: workers claim from it again at once.")
  static final class Resume implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Parameters(index = "0", paramLabel = "QUEUE")
    String queue;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      TaskOptions.validQueue(queue);
      try (Backend b = backend.open()) {
        boolean wasPaused = b.broker().pausedQueues().contains(queue);
        b.broker().resume(queue);
        print(
            spec,
            output,
            queue,
            false,
            wasPaused ? "resumed '" + queue + "'" : "'" + queue + "' was not paused");
      }
      return 0;
    }
  }

  @Command(name = "paused", mixinStandardHelpOptions = true, description = "List paused queues.")
  static final class Paused implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      try (Backend b = backend.openReadOnly()) {
        List<String> paused = b.broker().pausedQueues();
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          OutputOptions.printJson(out, paused);
        } else {
          out.println(paused.isEmpty() ? "no paused queues" : String.join("\n", paused));
          out.flush();
        }
      }
      return 0;
    }
  }

  private static void print(
      CommandLine.Model.CommandSpec spec,
      OutputOptions output,
      String queue,
      boolean paused,
      String line) {
    PrintWriter out = spec.commandLine().getOut();
    if (output.json) {
      OutputOptions.printJson(out, Map.of("queue", queue, "paused", paused));
    } else {
      out.println(line);
      out.flush();
    }
  }
}
