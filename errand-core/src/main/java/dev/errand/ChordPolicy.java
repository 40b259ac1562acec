package dev.errand;

/**
 * What a chord does when some of its members fail. Either way the callback never runs before every
 * member has finished (succeeded, failed after its last retry, dead-lettered or been revoked).
 */
public enum ChordPolicy {
  /**
   * The default, as in Celery: the callback does not run when any member failed; the chord's result
   * is a failure naming the failed members. A failed member re-driven from the dead letters that
   * then succeeds can still complete the chord: when no member is failed any more, the callback
   * runs, once.
   */
  FAIL,

  /**
   * The callback runs once every member has finished, with every member's outcome (its value or its
   * error), in member order. A later re-drive of a failed member does not run it again.
   */
  RUN_WITH_FAILURES
}
