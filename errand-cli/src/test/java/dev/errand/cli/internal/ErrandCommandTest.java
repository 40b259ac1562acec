package dev.errand.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command line builds only the subcommand it runs (the others are stand-ins with their name and
 * description), and nobody can tell: the usage help, help for one command, and the suggestions for
 * a misspelt one read as with every subcommand built.
 */
class ErrandCommandTest {

  /** The usage help of {@code cli}'s root. */
  static String usage(CommandLine cli) {
    StringWriter out = new StringWriter();
    cli.usage(new PrintWriter(out), CommandLine.Help.Ansi.OFF);
    return out.toString();
  }

  @Test
  void theRootHelpListsEveryCommandAsWhenAllAreBuilt() {
    CommandLine all = ErrandCommand.commandLine("no-such-command"); // unknown: every one is built
    for (String[] args :
        new String[][] {
          {}, {"--help"}, {"-V"}, {"worker", "--app", "x"}, {"help"}, {"-h", "call"}
        }) {
      assertThat(usage(ErrandCommand.commandLine(args)))
          .as(String.join(" ", args))
          .isEqualTo(usage(all));
    }
    assertThat(all.getSubcommands().keySet())
        .containsExactlyElementsOf(ErrandCommand.commandLine().getSubcommands().keySet());
  }

  @Test
  void onlyTheCommandNamedIsBuiltFromItsClass() {
    CommandLine cli = ErrandCommand.commandLine("inspect", "queues", "--json");
    assertThat((Object) cli.getSubcommands().get("inspect").getCommand())
        .isInstanceOf(InspectCommand.class);
    assertThat(cli.getSubcommands().get("inspect").getSubcommands()).containsKey("queues");
    assertThat(cli.getSubcommands().get("worker").getCommandSpec().userObject()).isNull();

    CommandLine help = ErrandCommand.commandLine("help", "worker");
    assertThat((Object) help.getSubcommands().get("worker").getCommand())
        .isInstanceOf(WorkerCommand.class);
  }

  @Test
  void helpForOneCommandAndSuggestionsReadAsBefore() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int help = ErrandCommand.run(new PrintWriter(out), new PrintWriter(err), "help", "worker");
    assertThat(help).isZero();
    assertThat(out.toString()).startsWith("Usage: errand worker").contains("--concurrency");

    StringWriter misspelt = new StringWriter();
    int code = ErrandCommand.run(new PrintWriter(out), new PrintWriter(misspelt), "wroker");
    assertThat(code).isEqualTo(ErrandCommand.USAGE);
    assertThat(misspelt.toString()).contains("Unmatched argument", "Did you mean");
  }
}
