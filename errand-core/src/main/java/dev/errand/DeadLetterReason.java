package dev.errand;

/** Why a message was moved to the dead letter list. */
public enum DeadLetterReason {
  /** The message is not valid JSON, lacks a required field or has an unsupported version. */
  UNDECODABLE,
  /** No handler is registered for the task name on the worker that received it. */
  UNKNOWN_TASK,
  /** The arguments do not bind to the task's argument type. */
  INVALID_ARGUMENTS,
  /** The message was delivered more times than allowed without an outcome (a crash loop). */
  TOO_MANY_DELIVERIES,
  /** The task failed and has no retries left, or its error is never retried. */
  FAILED,
  /**
   * The task's outcome could not be stored for a reason that will not go away (it cannot be
   * encoded, or the backend refuses it while it accepts everything else); the dead letter keeps the
   * message so it can be re-driven once the cause is fixed.
   */
  UNSTORABLE
}
