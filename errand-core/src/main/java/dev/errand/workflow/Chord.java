package dev.errand.workflow;

import dev.errand.ChordPolicy;
import java.util.Objects;

/**
 * A group, then a callback that runs once every member has finished, given the members' results in
 * member order. What a failed member does is the chord's {@link ChordPolicy} ({@link
 * ChordPolicy#FAIL} by default: the callback does not run, and the chord's result is a failure
 * naming the failed members). The callback may be a chain: its first task gets the results.
 *
 * <p>The callback runs exactly once, however many workers settle the members concurrently and
 * whatever crashes happen: each member's outcome and the chord's count are stored in one atomic
 * step. Immutable and thread-safe.
 *
 * @param <R> the callback's result type
 */
public final class Chord<R> implements Workflow {

  final Group<?> header;
  final Chain<R> callback;
  final ChordPolicy policy;

  Chord(Group<?> header, Chain<R> callback, ChordPolicy policy) {
    this.header = Objects.requireNonNull(header, "header");
    this.callback = Objects.requireNonNull(callback, "callback");
    this.policy = Objects.requireNonNull(policy, "policy");
    if (!(callback.steps.get(0) instanceof Signature<?>)) {
      throw new IllegalArgumentException("a chord's callback must start with a task");
    }
  }

  /** The same chord with another failure policy. */
  public Chord<R> policy(ChordPolicy policy) {
    return new Chord<>(header, callback, policy);
  }

  /** The header group. */
  public Group<?> header() {
    return header;
  }

  /** The failure policy. */
  public ChordPolicy policy() {
    return policy;
  }

  @Override
  public String toString() {
    return "Chord{" + header + " -> " + callback + "}";
  }
}
