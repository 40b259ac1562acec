package dev.errand.cli.internal;

/**
 * The task, dead letter or schedule a command names does not exist; exits {@link
 * ErrandCommand#NOT_FOUND}, so a script can tell "no such thing" from a failure or a typo in a
 * flag.
 */
final class NotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  NotFoundException(String message) {
    super(message);
  }
}
