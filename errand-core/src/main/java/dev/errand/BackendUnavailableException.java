package dev.errand;

/**
 * The backend could not do this now for a reason that is not the call's own: it cannot be reached,
 * did not answer in time, or is busy, loading, full or read-only. The same call may succeed later.
 * A worker retries such a write for as long as it takes and never gives up on the task because of
 * it; a {@link BackendException} of another kind (the backend refused this very call) may end the
 * task as a dead letter when everything else goes through.
 */
public class BackendUnavailableException extends BackendException {
  private static final long serialVersionUID = 1L;

  /** An unavailable backend, described by {@code message}. */
  public BackendUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
