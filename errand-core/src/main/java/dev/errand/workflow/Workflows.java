package dev.errand.workflow;

import dev.errand.ChordPolicy;
import dev.errand.TaskDef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Builds workflows, as Celery's canvas does:
 *
 * <pre>{@code
 * import static dev.errand.workflow.Workflows.*;
 *
 * // an order pipeline: each step gets the previous result
 * AsyncResult<Receipt> r = client.send(
 *     Chain.of(Signature.of(CHARGE, order)).then(RESERVE_STOCK).then(SEND_CONFIRMATION));
 *
 * // an export: parts in parallel, then one callback with every part's result
 * AsyncResult<URI> file = client.send(chord(group(parts), BUILD_FILE));
 *
 * // a re-sync of 100,000 products, 100 per task
 * GroupResult<List<Void>> sync = client.send(chunks(SYNC_PRODUCT, productIds, 100));
 * }</pre>
 *
 * <p>By name, for tasks of other languages: {@code chain(byName("proj.add", args), ...)}.
 */
public final class Workflows {

  /**
   * The built-in task every worker runs: a task over a list of arguments, in one attempt ({@link
   * #map}, {@link #starmap}, {@link #chunks}): {@value}. Its keyword arguments are {@code task}
   * (the name) and {@code items} (each {@code {"args": [...], "kwargs": {...}}}).
   */
  public static final String MAP_TASK = "errand.map";

  private Workflows() {}

  /** Steps one after another (tasks, chains, chords; a group followed by a step is a chord). */
  public static Chain<Object> chain(Workflow... steps) {
    return new Chain<>(normalise(Arrays.asList(steps)));
  }

  /** Steps one after another. */
  public static Chain<Object> chain(List<? extends Workflow> steps) {
    return new Chain<>(normalise(steps));
  }

  /** Tasks in parallel. */
  @SafeVarargs
  public static <R> Group<R> group(Signature<? extends R>... members) {
    return new Group<>(Arrays.asList(members));
  }

  /** Tasks in parallel. */
  public static <R> Group<R> group(List<? extends Signature<? extends R>> members) {
    return new Group<>(members);
  }

  /** Chains of tasks in parallel; each member's result is its chain's. */
  @SafeVarargs
  public static <R> Group<R> groupOfChains(Chain<R>... members) {
    return new Group<>(Arrays.asList(members));
  }

  /** Tasks and chains of tasks in parallel, of any result types. */
  public static Group<Object> groupOf(List<? extends Workflow> members) {
    return new Group<>(members);
  }

  /** A group, then {@code callback} given the list of its results. */
  public static <T, R> Chord<R> chord(Group<T> header, TaskDef<? super List<T>, R> callback) {
    return new Chord<>(header, Chain.of(Signature.receiving(callback)), ChordPolicy.FAIL);
  }

  /** A group, then {@code callback} given the list of its results by the signature's rule. */
  public static <R> Chord<R> chord(Group<?> header, Signature<R> callback) {
    return new Chord<>(header, Chain.of(callback), ChordPolicy.FAIL);
  }

  /** A group, then a chain whose first task is given the list of its results. */
  public static <R> Chord<R> chord(Group<?> header, Chain<R> callback) {
    return new Chord<>(header, callback, ChordPolicy.FAIL);
  }

  /**
   * A group of tasks, each running {@code task} over {@code size} items in one attempt (it retries
   * as a whole); the result of each is the list of its items' results. The group's messages are
   * sent in batches, so 100,000 items in chunks of 100 are 1,000 messages in a few round trips.
   */
  public static <A, R> Group<List<R>> chunks(TaskDef<A, R> task, List<A> items, int size) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(items, "items");
    if (size <= 0) {
      throw new IllegalArgumentException("chunk size must be > 0 but was " + size);
    }
    if (items.isEmpty()) {
      throw new IllegalArgumentException("chunks of no items");
    }
    List<Signature<List<R>>> members = new ArrayList<>();
    for (int from = 0; from < items.size(); from += size) {
      members.add(map(task, items.subList(from, Math.min(items.size(), from + size))));
    }
    return new Group<>(members);
  }

  /**
   * One task that runs {@code task} for each of {@code items} in order, in one attempt; its result
   * is the list of results. Runs on a worker that has {@code task} registered.
   */
  public static <A, R> Signature<List<R>> map(TaskDef<A, R> task, List<A> items) {
    return MapCall.of(task, items);
  }

  /**
   * Like {@link #map}, each item given as positional arguments ({@code [[2, 3], [4, 5]]} for a task
   * taking two), for tasks called by name.
   */
  public static Signature<List<com.fasterxml.jackson.databind.JsonNode>> starmap(
      String task, List<List<Object>> items) {
    return MapCall.byName(task, items);
  }

  /** Turns each group that a later step follows into a chord with the rest as its callback. */
  private static List<Workflow> normalise(List<? extends Workflow> steps) {
    List<Workflow> flat = new ArrayList<>();
    for (Workflow w : steps) {
      if (w instanceof Chain<?> c) {
        flat.addAll(c.steps);
      } else {
        flat.add(Objects.requireNonNull(w, "a chain step is null"));
      }
    }
    for (int i = 0; i < flat.size() - 1; i++) {
      if (flat.get(i) instanceof Group<?> g) {
        List<Workflow> rest = new ArrayList<>(normalise(flat.subList(i + 1, flat.size())));
        if (!(rest.get(0) instanceof Signature<?>)) {
          throw new IllegalArgumentException(
              "the step after a group in a chain must be a task (the chord's callback), not "
                  + rest.get(0));
        }
        List<Workflow> out = new ArrayList<>(flat.subList(0, i));
        out.add(new Chord<>(g, new Chain<>(rest), ChordPolicy.FAIL));
        return out;
      }
    }
    return flat;
  }
}
