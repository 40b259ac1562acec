package dev.errand.workflow;

import dev.errand.TaskDef;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Steps that run one after another, each given the previous step's result (see {@link Signature}
 * for how). A step is a task or a {@link Chord} (its callback's result goes on); a group followed
 * by a step is a chord: {@code chain(a, group(b, c), d)} runs {@code d} with the results of {@code
 * b} and {@code c}. A chain cannot end with a plain group (it would have no single result): end it
 * with a chord, or send the group on its own.
 *
 * <p>A failed step stops the chain: the steps after it never run, and the chain's result (its last
 * task's) becomes a failure naming the step that failed, at once, so {@code get} does not wait for
 * a timeout. Immutable and thread-safe.
 *
 * @param <R> the result type of its last step
 */
public final class Chain<R> implements Workflow {

  final List<Workflow> steps;

  Chain(List<Workflow> steps) {
    List<Workflow> flat = new ArrayList<>();
    for (Workflow w : steps) {
      Objects.requireNonNull(w, "a chain step is null");
      if (w instanceof Chain<?> c) {
        flat.addAll(c.steps);
      } else {
        flat.add(w);
      }
    }
    if (flat.isEmpty()) {
      throw new IllegalArgumentException("a chain needs at least one step");
    }
    for (Workflow w : flat) {
      if (w instanceof Group<?>) {
        throw new IllegalArgumentException(
            "a chain cannot end with a plain group (it would have no single result): end it with"
                + " a chord's callback, or send the group on its own");
      }
    }
    this.steps = List.copyOf(flat);
  }

  /** A chain starting with {@code first}. */
  public static <R> Chain<R> of(Signature<R> first) {
    return new Chain<>(List.of(first));
  }

  /** A chain starting with a chord. */
  public static <R> Chain<R> of(Chord<R> first) {
    return new Chain<>(List.of(first));
  }

  /** This chain, then {@code next}, given this chain's result as its whole argument. */
  public <S> Chain<S> then(TaskDef<? super R, S> next) {
    return then(Signature.receiving(next));
  }

  /** This chain, then {@code next} (given this chain's result by the signature's own rule). */
  public <S> Chain<S> then(Signature<S> next) {
    return append(next);
  }

  /** This chain, then {@code next}: its members each get this chain's result. */
  public <S> Chain<S> then(Chord<S> next) {
    return append(next);
  }

  /** This chain, then {@code next}. */
  public <S> Chain<S> then(Chain<S> next) {
    return append(next);
  }

  private <S> Chain<S> append(Workflow next) {
    List<Workflow> more = new ArrayList<>(steps);
    more.add(Objects.requireNonNull(next, "next"));
    return new Chain<>(more);
  }

  /** The steps, flattened. */
  public List<Workflow> steps() {
    return steps;
  }

  @Override
  public String toString() {
    return "Chain" + steps;
  }
}
