package dev.errand.worker.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.ChordPolicy;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import dev.errand.spi.Backend;
import dev.errand.wire.Arguments;
import dev.errand.wire.Flow;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Gives a chord's callback its argument: the members' results, in member order, read in batches
 * ({@link dev.errand.spi.ResultStore#getOutcomes}). Under {@link ChordPolicy#FAIL} a failed member
 * makes the callback fail instead, with an error naming the failed members. Thread-safe.
 */
final class ChordResults {

  /** The error type of a callback whose chord had failed members: {@value}. */
  static final String CHORD_FAILED = "dev.errand.ChordFailed";

  /** Members named in a chord's error message at most: {@value}. */
  static final int MAX_NAMED = 5;

  private final Backend backend;

  ChordResults(Backend backend) {
    this.backend = backend;
  }

  /**
   * What the callback runs with.
   *
   * @param message the callback's message with the results bound in, or null if it must fail
   * @param failure why it fails, or null
   */
  record Bound(TaskMessage message, TaskError failure) {}

  /** Binds the results of {@code m}'s chord into its arguments, or says why it cannot run. */
  Bound bind(TaskMessage m) {
    Flow f = m.flow();
    String group = f.chordOf();
    List<String> ids = backend.workflows().group(group).orElse(null);
    if (ids == null) {
      return new Bound(
          null,
          TaskError.of(
              CHORD_FAILED,
              "the members of chord " + group + " are not stored any more (expired?)"));
    }
    Map<String, TaskStatus> statuses = backend.results().getOutcomes(ids);
    boolean runWithFailures = f.policy() == ChordPolicy.RUN_WITH_FAILURES;
    ArrayNode results = Wire.mapper().createArrayNode();
    List<String> failed = new ArrayList<>();
    TaskError first = null;
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      TaskStatus s = statuses.get(id);
      TaskError error = errorOf(s);
      if (error != null) {
        if (failed.size() < MAX_NAMED) {
          failed.add("member " + i + " [" + id + "]: " + error.type() + ": " + error.message());
        }
        first = first == null ? error : first;
      }
      if (runWithFailures) {
        ObjectNode outcome = Wire.mapper().createObjectNode();
        outcome.put("taskId", id);
        if (error == null) {
          outcome.set("value", s.result());
        } else {
          outcome.set("error", Wire.mapper().valueToTree(error));
        }
        results.add(outcome);
      } else if (error == null) {
        results.add(s.result() == null ? Wire.mapper().nullNode() : s.result());
      }
    }
    if (first != null && !runWithFailures) {
      int count = (int) ids.stream().filter(id -> errorOf(statuses.get(id)) != null).count();
      return new Bound(
          null,
          new TaskError(
              CHORD_FAILED,
              count
                  + " of "
                  + ids.size()
                  + " members of chord "
                  + group
                  + " failed: "
                  + String.join("; ", failed)
                  + (count > failed.size() ? "; ..." : ""),
              first.traceback()));
    }
    if (f.pass() == null) {
      return new Bound(m, null);
    }
    Arguments.Json json = Flow.passed(f.pass(), m.args(), m.kwargs(), results);
    return new Bound(
        new TaskMessage(
            m.v(),
            m.id(),
            m.task(),
            json.args(),
            json.kwargs(),
            m.queue(),
            m.priority(),
            m.eta(),
            m.expires(),
            m.retries(),
            m.sentAt(),
            m.idempotencyKey(),
            m.headers(),
            m.options(),
            m.flow()),
        null);
  }

  /** A member's error: its own, or why it has none to give (not stored, not finished). */
  private static TaskError errorOf(TaskStatus s) {
    if (s == null) {
      return TaskError.of(CHORD_FAILED, "its outcome is not stored (expired?)");
    }
    if (s.state() == TaskState.SUCCESS) {
      return null;
    }
    if (s.state() == TaskState.REVOKED) {
      return TaskError.of("dev.errand.TaskRevoked", s.reason() == null ? "revoked" : s.reason());
    }
    if (s.state() == TaskState.FAILURE) {
      return s.error() != null ? s.error() : TaskError.of("dev.errand.UnknownError", null);
    }
    return TaskError.of(CHORD_FAILED, "it has not finished (" + s.state() + ")");
  }
}
