package dev.errand.cli.internal;

import dev.errand.TaskState;

/** picocli markup for states: green success, red failure, yellow in between. */
final class StateColors {
  private StateColors() {}

  static String colored(TaskState state) {
    String style =
        switch (state) {
          case SUCCESS -> "green";
          case FAILURE -> "red";
          case REVOKED -> "magenta";
          case RETRY -> "yellow";
          default -> "cyan";
        };
    return "@|" + style + " " + state + "|@";
  }
}
