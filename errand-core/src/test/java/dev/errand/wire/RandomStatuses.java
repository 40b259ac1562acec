package dev.errand.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.errand.TaskError;
import dev.errand.TaskState;
import dev.errand.TaskStatus;
import java.time.Instant;
import java.util.List;
import java.util.Random;

/**
 * Random statuses and JSON values for the wire tests: every field present or absent, trees of every
 * kind, text that needs escaping. Seeded, so a failure repeats. Not thread-safe.
 */
final class RandomStatuses {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final Random random;

  RandomStatuses(long seed) {
    this.random = new Random(seed);
  }

  Random random() {
    return random;
  }

  TaskStatus status() {
    TaskState[] states = TaskState.values();
    return new TaskStatus(
        "id-" + random.nextInt() + (random.nextInt(9) == 0 ? " \"é\"\n\u2028" : ""),
        maybe("task.name"),
        states[random.nextInt(states.length)],
        maybe("queue-" + random.nextInt(5)),
        maybeNode(),
        random.nextInt(4) == 0
            ? new TaskError("Err" + random.nextInt(9), maybe("message"), maybe("trace\n  at x"))
            : null,
        maybeNode(),
        maybe("a reason"),
        random.nextInt(100),
        maybe("w1@host"),
        maybeInstant(),
        maybeInstant(),
        maybeInstant(),
        maybeInstant(),
        maybeInstant(),
        maybe("parent-" + random.nextInt()),
        maybeNode(),
        random.nextInt(3) == 0
            ? List.of(
                new TaskStatus.Retry(
                    1, Instant.ofEpochSecond(7), new TaskError("IOException", maybe("x"), null)),
                new TaskStatus.Retry(
                    2, Instant.ofEpochSecond(9, 5), new TaskError("Timeout", null, null)))
            : null);
  }

  String maybe(String s) {
    return random.nextBoolean() ? s : null;
  }

  Instant maybeInstant() {
    if (random.nextInt(3) == 0) {
      return null;
    }
    long nanos = random.nextBoolean() ? 0 : random.nextInt(1_000_000_000);
    return Instant.ofEpochSecond(random.nextInt(2_000_000_000), nanos);
  }

  JsonNode maybeNode() {
    return switch (random.nextInt(8)) {
      case 0 -> null;
      case 1 -> NullNode.getInstance();
      case 2 -> NODES.numberNode(random.nextDouble());
      case 3 -> NODES.numberNode(random.nextLong());
      case 4 -> NODES.textNode("t\"" + random.nextInt());
      case 5 -> NODES.booleanNode(random.nextBoolean());
      case 6 -> {
        var o = NODES.objectNode();
        o.put("done", random.nextInt(100)).put("of", 100).putArray("list").add(1).add("x");
        o.putNull("none");
        yield o;
      }
      default -> NODES.arrayNode().add(true).add(NODES.objectNode().put("k", "v"));
    };
  }
}
