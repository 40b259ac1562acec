package dev.errand.cli.internal;

/** A mistake in how a command was called that parsing alone cannot catch; exits 2. */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
