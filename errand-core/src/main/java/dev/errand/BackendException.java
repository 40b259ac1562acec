package dev.errand;

/** A backend (broker or store) could not be reached or failed; the operation did not happen. */
public class BackendException extends ErrandException {
  private static final long serialVersionUID = 1L;

  /** A backend failure described by {@code message}. */
  public BackendException(String message, Throwable cause) {
    super(message, null, null, cause);
  }
}
