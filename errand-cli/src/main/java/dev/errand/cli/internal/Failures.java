package dev.errand.cli.internal;

import dev.errand.BackendException;
import dev.errand.ErrandException;
import dev.errand.MessageTooLargeException;
import picocli.CommandLine;

/**
 * Turns exceptions into one clear line and an exit code: configuration and input mistakes exit 2, a
 * task, dead letter or schedule that does not exist 4, everything else 1. Set {@code
 * ERRAND_DEBUG=1} to also print the stack trace.
 */
final class Failures implements CommandLine.IExecutionExceptionHandler {

  @Override
  public int handleExecutionException(
      Exception e, CommandLine cli, CommandLine.ParseResult parseResult) {
    boolean notFound = e instanceof NotFoundException;
    // A message over the size limit is made of what the caller typed (--args, --kwargs).
    boolean usage =
        e instanceof IllegalArgumentException
            || e instanceof UsageException
            || e instanceof MessageTooLargeException;
    String prefix = usage || notFound ? "error: " : "failed: ";
    cli.getErr().println(cli.getColorScheme().errorText(prefix + describe(e)));
    if (System.getenv("ERRAND_DEBUG") != null) {
      e.printStackTrace(cli.getErr());
    }
    cli.getErr().flush();
    return notFound ? ErrandCommand.NOT_FOUND : usage ? ErrandCommand.USAGE : ErrandCommand.FAILURE;
  }

  private static String describe(Exception e) {
    String m = e.getMessage();
    if (e instanceof BackendException && e.getCause() != null) {
      m = m + " (" + e.getCause().getMessage() + ")";
    } else if (!(e instanceof ErrandException)
        && !(e instanceof IllegalArgumentException)
        && !(e instanceof UsageException)
        && !(e instanceof NotFoundException)) {
      m = e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
    return m;
  }
}
