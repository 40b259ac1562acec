package dev.errand.cli.internal;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/** The root command: global help and version; the work is in the subcommands. */
@Command(
    name = "errand",
    mixinStandardHelpOptions = true,
    versionProvider = ErrandCommand.Version.class,
    description = "Background tasks for the JVM: run workers, send tasks, read results, inspect.",
    footer = {
      "",
      "The backend is --broker URL, else $ERRAND_BROKER_URL, else "
          + BackendOptions.DEFAULT_URL
          + ".",
      "Exit codes: 0 ok, 1 failure, 2 bad usage or configuration, 3 result not ready,"
          + " 4 no such task, dead letter or schedule."
    })
public final class ErrandCommand implements Runnable {

  /** Exit code of a failed task or an unreachable backend. */
  public static final int FAILURE = 1;

  /** Exit code of bad usage or configuration. */
  public static final int USAGE = 2;

  /** Exit code of a result that is not ready. */
  public static final int NOT_READY = 3;

  /** Exit code of a task, dead letter or schedule that does not exist. */
  public static final int NOT_FOUND = 4;

  /** The subcommands, in the order of the usage help; registered by {@link #commandLine}. */
  static final List<Class<?>> COMMANDS =
      List.of(
          WorkerCommand.class,
          CallCommand.class,
          ResultCommand.class,
          InspectCommand.class,
          PurgeCommand.class,
          QueueCommand.class,
          RevokeCommand.class,
          DlqCommand.class,
          ScheduleCommand.class,
          BeatCommand.class,
          DashboardCommand.class,
          DemoCommand.class,
          BenchCommand.class,
          SearchBenchCommand.class,
          WorkflowBenchCommand.class,
          LimitsBenchCommand.class,
          ChaosCommand.class,
          CommandLine.HelpCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Runs the command line with the process's streams. */
  public static int run(String... args) {
    return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
  }

  /** Runs the command line with the given streams (tests). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = commandLine(args);
    cli.setOut(out);
    cli.setErr(err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.registerConverter(java.time.Duration.class, new DurationConverter());
    cli.setExecutionExceptionHandler(new Failures());
    cli.setParameterExceptionHandler(ErrandCommand::badUsage);
    return cli.execute(args);
  }

  /**
   * The command line for {@code args}: the root with every subcommand, of which only the one named
   * in {@code args} is built from its class. Picocli builds a command's model by reflection over
   * all its options; for all fifteen that was half the CPU time of {@code errand --help} (0.3 of
   * 0.65 s), and again in both processes of a worker. The others are stand-ins that carry just what
   * the root's usage help and its suggestions show, their name and description. When the command is
   * unknown (also an {@code @file} of arguments), every subcommand is built.
   */
  static CommandLine commandLine(String... args) {
    CommandLine cli = new CommandLine(new ErrandCommand());
    String first = named(args, 0);
    String named =
        "help".equals(first) ? named(args, List.of(args).indexOf("help") + 1) : first; // help CMD
    boolean all = named != null && COMMANDS.stream().noneMatch(type -> names(type, named));
    for (Class<?> type : COMMANDS) {
      Command c = type.getAnnotation(Command.class);
      if (all || names(type, named) || type == CommandLine.HelpCommand.class) {
        cli.addSubcommand(c.name(), new CommandLine(type));
      } else {
        CommandSpec standIn =
            CommandSpec.create().name(c.name()).aliases(c.aliases()).mixinStandardHelpOptions(true);
        standIn.usageMessage().description(c.description()).header(c.header()).hidden(c.hidden());
        cli.addSubcommand(c.name(), new CommandLine(standIn));
      }
    }
    return cli;
  }

  /** The first argument from {@code from} on that is not an option, or null. */
  private static String named(String[] args, int from) {
    for (int i = from; i < args.length; i++) {
      if (!args[i].startsWith("-")) {
        return args[i];
      }
    }
    return null;
  }

  /** Whether {@code name} is the name or an alias of the command {@code type}. */
  private static boolean names(Class<?> type, String name) {
    Command c = type.getAnnotation(Command.class);
    return name != null && (c.name().equals(name) || List.of(c.aliases()).contains(name));
  }

  /**
   * A flag or value picocli refused: the reason in one line and where to read more. Picocli's
   * default prints the whole usage after the reason, which pushes the one line that matters off the
   * screen for a command with twenty options.
   */
  private static int badUsage(CommandLine.ParameterException e, String[] args) {
    CommandLine cli = e.getCommandLine();
    PrintWriter err = cli.getErr();
    String reason = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^Error: ", "");
    err.println(cli.getColorScheme().errorText("error: " + reason));
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Run '" + cli.getCommandSpec().qualifiedName() + " --help' for its options.");
    err.flush();
    return USAGE;
  }

  /** Prints the version from the jar manifest, or "dev" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = ErrandCommand.class.getPackage().getImplementationVersion();
      return new String[] {"errand " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
