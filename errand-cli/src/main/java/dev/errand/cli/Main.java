package dev.errand.cli;

import dev.errand.cli.internal.ErrandCommand;

/**
 * The {@code errand} command. Exit codes: 0 success; 1 a failure (a task that failed, a backend
 * that cannot be reached); 2 bad usage or configuration (a bad flag, URL or value, with the reason
 * printed); 3 a result that is not ready yet; 4 no such task, dead letter or schedule. A worker,
 * beat or dashboard stopped by SIGTERM or SIGINT exits 0 once it has stopped cleanly.
 */
public final class Main {

  private Main() {}

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(ErrandCommand.run(args));
  }
}
