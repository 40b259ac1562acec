package dev.errand.cli.internal;

import dev.errand.Client;
import dev.errand.DeadLetter;
import dev.errand.DeadLetters;
import dev.errand.spi.Backend;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code errand dlq list | show ID | retry ID|--all | discard ID|--all}. */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = "The dead letter list: messages that could not be processed, with the reason.",
    subcommands = {
      DlqCommand.ListDead.class,
      DlqCommand.Show.class,
      DlqCommand.Retry.class,
      DlqCommand.Discard.class
    })
final class DlqCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "say what to do: list, show ID, retry ID|--all or discard ID|--all");
  }

  /** One id, or every dead letter (optionally of one queue). */
  static final class Target {
    @Parameters(
        index = "0",
        arity = "1",
        paramLabel = "ID",
        description = "A dead letter id (the task id).")
    String id;

    @Option(
        names = "--all",
        required = true,
        description = "Every dead letter (of --queue if given).")
    boolean all;

    /** {@code --queue} picks among all dead letters; with one id it would be ignored. */
    void check(String queue) {
      if (queue != null && !all) {
        throw new UsageException(
            "--queue " + queue + " only applies with --all; a dead letter id names one already");
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Dead letters, newest first.")
  static final class ListDead implements Callable<Integer> {
    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Option(
        names = {"-q", "--queue"},
        paramLabel = "QUEUE",
        description = "Only this queue.")
    String queue;

    @Option(
        names = {"-n", "--limit"},
        paramLabel = "N",
        description = "At most N (default: 50).")
    int limit = 50;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (limit < 0) {
        throw new UsageException("--limit must be >= 0 but was " + limit);
      }
      try (Backend b = backend.openReadOnly()) {
        DeadLetters dlq = Client.builder(b).build().deadLetters();
        List<DeadLetter> page = dlq.list(queue, 0, limit);
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          OutputOptions.printJson(out, page);
          return 0;
        }
        if (page.isEmpty()) {
          out.println("no dead letters" + (queue == null ? "" : " in queue " + queue));
          out.flush();
          return 0;
        }
        Instant now = b.clock().instant();
        List<List<String>> rows = new ArrayList<>();
        for (DeadLetter d : page) {
          String error = d.error().toString();
          rows.add(
              List.of(
                  d.id(),
                  d.taskName() == null ? "?" : d.taskName(),
                  d.queue(),
                  "@|red " + d.reason() + "|@",
                  String.valueOf(d.attempts()),
                  OutputOptions.age(d.failedAt(), now),
                  error.length() > 60 ? error.substring(0, 57) + "..." : error));
        }
        OutputOptions.printTable(
            InspectCommand.ansi(spec),
            out,
            List.of("ID", "TASK", "QUEUE", "REASON", "ATTEMPTS", "AGE", "ERROR"),
            rows);
        long total = dlq.count(queue);
        if (total > page.size()) {
          out.println("(" + page.size() + " of " + total + " shown; use --limit)");
        }
        out.flush();
      }
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "One dead letter: arguments, error, traceback, raw message.",
        "Long ones are cut to a screenful ("
            + Show.FIELD_BYTES
            + " bytes, the traceback "
            + Show.TRACEBACK_BYTES
            + ") unless --full; --json is always complete."
      })
  static final class Show implements Callable<Integer> {
    /** Most bytes shown of the arguments, error message and raw message without --full. */
    static final int FIELD_BYTES = 2048;

    /** Most bytes of the traceback without --full: a long Java stack trace fits. */
    static final int TRACEBACK_BYTES = 8192;

    @Mixin BackendOptions backend;
    @Mixin OutputOptions output;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Option(names = "--full", description = "Show every byte of long fields.")
    boolean full;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      try (Backend b = backend.openReadOnly()) {
        DeadLetter d =
            b.deadLetters()
                .get(id)
                .orElseThrow(() -> new NotFoundException("no dead letter with id " + id));
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          OutputOptions.printJson(out, d);
          return 0;
        }
        out.println(
            InspectCommand.ansi(spec)
                .string("@|bold " + d.id() + "|@  @|red " + d.reason() + "|@"));
        out.println(
            "task:      "
                + (d.taskName() == null ? "(undecodable)" : d.taskName())
                + " on queue "
                + d.queue());
        out.println("attempts:  " + d.attempts());
        out.println("sent:      " + (d.sentAt() == null ? "-" : d.sentAt()));
        out.println("failed:    " + d.failedAt());
        if (d.args() != null && !d.args().isEmpty()) {
          out.println("args:      " + clip(d.args().toString(), FIELD_BYTES));
        }
        if (d.kwargs() != null && !d.kwargs().isEmpty()) {
          out.println("kwargs:    " + clip(d.kwargs().toString(), FIELD_BYTES));
        }
        out.println("error:     " + clip(d.error().toString(), FIELD_BYTES));
        if (d.error().traceback() != null) {
          out.println(clip(d.error().traceback().stripTrailing(), TRACEBACK_BYTES));
        }
        out.println("message:   " + clip(d.body(), FIELD_BYTES));
        out.flush();
      }
      return 0;
    }

    private String clip(String text, int maxBytes) {
      return full ? text : Clip.of(text, maxBytes, "--full");
    }
  }

  @Command(
      name = "retry",
      mixinStandardHelpOptions = true,
      description =
          "Send dead letters again from scratch (same id, retries reset) and remove them from the list.")
  static final class Retry implements Callable<Integer> {
    @Mixin BackendOptions backend;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(
        names = {"-q", "--queue"},
        paramLabel = "QUEUE",
        description = "With --all: only this queue.")
    String queue;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      target.check(queue);
      try (Backend b = backend.open()) {
        DeadLetters dlq = Client.builder(b).build().deadLetters();
        PrintWriter out = spec.commandLine().getOut();
        if (target.all) {
          out.println("re-sent " + dlq.redriveAll(queue) + " dead letters");
        } else if (dlq.redrive(target.id)) {
          out.println("re-sent " + target.id);
        } else {
          throw new NotFoundException("no dead letter with id " + target.id);
        }
        out.flush();
      }
      return 0;
    }
  }

  @Command(
      name = "discard",
      mixinStandardHelpOptions = true,
      description = "Delete dead letters for good.")
  static final class Discard implements Callable<Integer> {
    @Mixin BackendOptions backend;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(
        names = {"-q", "--queue"},
        paramLabel = "QUEUE",
        description = "With --all: only this queue.")
    String queue;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      target.check(queue);
      try (Backend b = backend.open()) {
        DeadLetters dlq = Client.builder(b).build().deadLetters();
        PrintWriter out = spec.commandLine().getOut();
        if (target.all) {
          out.println("discarded " + dlq.discardAll(queue) + " dead letters");
        } else if (dlq.discard(target.id)) {
          out.println("discarded " + target.id);
        } else {
          throw new NotFoundException("no dead letter with id " + target.id);
        }
        out.flush();
      }
      return 0;
    }
  }
}
