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

/** {@code errand queue pause NAME | resume NAME | paused | shards NAME [N]}. */
@Command(
    name = "queue",
    mixinStandardHelpOptions = true,
    description = {
      "Pause and resume queues (workers claim nothing from a paused queue), and spread a queue",
      "over shards (Redis)."
    },
    subcommands = {
      QueueCommand.Pause.class,
      QueueCommand.Resume.class,
      QueueCommand.Paused.class,
      QueueCommand.Shards.class
    })
final class QueueCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "say what to do: pause QUEUE, resume QUEUE, paused or shards QUEUE [N]");
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

  @Command(
      name = "shards",
      mixinStandardHelpOptions = true,
      description = {
        "Show or set how many shards a queue is spread over (Redis; on Redis Cluster each shard",
        "has its own hash slot, so one hot queue can use every master). Priorities and FIFO",
        "within a priority hold per shard. Changing the count moves nothing: the earlier shards",
        "are still drained, and forgotten once empty. See docs/scaling.md."
      })
  static final class Shards implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Parameters(index = "0", paramLabel = "QUEUE")
    String queue;

    @Parameters(
        index = "1",
        arity = "0..1",
        paramLabel = "N",
        description = "the new shard count, 1-256 (1: not sharded)")
    Integer shards;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      TaskOptions.validQueue(queue);
      try (Backend b = shards == null ? backend.openReadOnly() : backend.open()) {
        int before = b.broker().shards(queue);
        if (shards != null) {
          try {
            b.broker().setShards(queue, shards);
          } catch (UnsupportedOperationException e) {
            throw new UsageException(e.getMessage());
          }
        }
        int now = b.broker().shards(queue);
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          OutputOptions.printJson(out, Map.of("queue", queue, "shards", now));
        } else {
          out.println(
              shards == null || before == now
                  ? "'" + queue + "' has " + now + (now == 1 ? " shard" : " shards")
                  : "'"
                      + queue
                      + "' now has "
                      + now
                      + " shards (was "
                      + before
                      + "; the earlier shards are drained, then forgotten)");
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
