package dev.errand.spi;

import dev.errand.ChordPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Groups and chords: which tasks make up a group, and each chord's size, callback and parts.
 * Thread-safe.
 *
 * <p>A chord's parts are recorded by {@link Backend#settle} (a {@link Settlement.ChordPart}), in
 * the same atomic unit as the member's outcome. When a part leaves every member finished, the
 * backend enqueues the chord's stored callback message, in that same unit, following this rule:
 *
 * <ul>
 *   <li>{@link ChordPolicy#RUN_WITH_FAILURES}: the first time every member has finished, whatever
 *       their outcomes; never again.
 *   <li>{@link ChordPolicy#FAIL}: the first time every member has finished (the callback's worker
 *       then fails it with the members' errors when some failed); and once more if a later part
 *       leaves no member failed after a firing that had failures (a failed member re-driven from
 *       the dead letters succeeded). At most twice, and at most once with none failed.
 * </ul>
 *
 * <p>Parts recorded before the chord is stored are counted once it is (the next part that finds
 * every member finished fires it); a client stores the chord before it enqueues the members.
 */
public interface WorkflowStore {

  /** Stores (replaces) a group's members, in order, kept for {@code ttl}. */
  void putGroup(String groupId, List<String> memberIds, Duration ttl);

  /** A group's member ids in order, empty if unknown or expired. */
  Optional<List<String>> group(String groupId);

  /**
   * Stores the steps of a long chain once ({@link dev.errand.wire.Wire#encodeSteps}), so that its
   * messages refer to them instead of each carrying the rest of the chain; kept for {@code ttl}.
   * Written once when the workflow is sent and never changed.
   */
  void putSteps(String id, byte[] steps, Duration ttl);

  /** Steps stored by {@link #putSteps}, empty if unknown or expired. */
  Optional<byte[]> steps(String id);

  /** Stores a chord, with no parts, kept for {@code ttl}; replaces nothing if it exists. */
  void putChord(Chord chord, Duration ttl);

  /** A chord's state, empty if unknown or expired. */
  Optional<ChordState> chord(String chordId);

  /**
   * A chord as it is sent.
   *
   * @param id the chord's id (its header group's id)
   * @param size how many members it has, {@code > 0}
   * @param policy what a member's failure does
   * @param callback the message enqueued when the chord completes
   */
  record Chord(String id, int size, ChordPolicy policy, NewMessage callback) {
    public Chord {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(policy, "policy");
      Objects.requireNonNull(callback, "callback");
      if (size <= 0) {
        throw new IllegalArgumentException("a chord needs at least one member but had " + size);
      }
    }
  }

  /** How often a chord's callback was enqueued. */
  enum Firing {
    /** Not yet: some member has not finished. */
    NOT_YET,
    /** Once, with some member failed. */
    WITH_FAILURES,
    /** With every member succeeded (possibly after an earlier firing with failures). */
    ALL_SUCCEEDED
  }

  /**
   * A chord as stored.
   *
   * @param id the chord's id
   * @param size its member count
   * @param policy its failure policy
   * @param finished how many distinct members have finished
   * @param failed how many of them failed
   * @param firing whether and how its callback was enqueued
   */
  record ChordState(
      String id, int size, ChordPolicy policy, int finished, int failed, Firing firing) {}
}
