package dev.errand.worker.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.InvalidMessageException;
import dev.errand.TaskDef;
import dev.errand.wire.Arguments;
import dev.errand.wire.TaskMessage;
import dev.errand.wire.Wire;
import dev.errand.worker.TaskHandler;
import dev.errand.worker.TaskRegistry;
import dev.errand.workflow.Workflows;
import java.util.Optional;

/**
 * The built-in task {@value Workflows#MAP_TASK} every worker runs: a registered task over a list of
 * arguments in one attempt (what {@code map}, {@code starmap} and {@code chunks} send), with the
 * options of that task (its retry policy and time limits apply to the whole list). Its result is
 * the list of results.
 */
final class MapTask {

  private MapTask() {}

  /** Whether {@code m} is a call of the built-in map task. */
  static boolean isMap(TaskMessage m, TaskRegistry registry) {
    return Workflows.MAP_TASK.equals(m.task()) && registry.find(m.task()).isEmpty();
  }

  /** The name of the task {@code m} maps, or null if it names none. */
  static String target(TaskMessage m) {
    JsonNode t = m.kwargs().get("task");
    return t != null && t.isTextual() ? t.textValue() : null;
  }

  /**
   * The registration that runs {@code m} over its target's registration, or empty if the target is
   * not registered here.
   */
  static Optional<TaskRegistry.Registration<?, ?>> registration(
      TaskMessage m, TaskRegistry registry) {
    String name = target(m);
    if (name == null) {
      return Optional.empty();
    }
    return registry.find(name).map(target -> wrap(target));
  }

  private static <A, R> TaskRegistry.Registration<?, ?> wrap(
      TaskRegistry.Registration<A, R> target) {
    TaskDef<JsonNode, JsonNode> def =
        TaskDef.builder(Workflows.MAP_TASK, JsonNode.class, JsonNode.class)
            .options(target.task().options())
            .build();
    TaskHandler<JsonNode, JsonNode> handler =
        (kwargs, ctx) -> {
          JsonNode items = kwargs.get("items");
          if (items == null || !items.isArray()) {
            throw new InvalidMessageException(
                Workflows.MAP_TASK + " needs an 'items' array", ctx.id(), def.name(), null);
          }
          ArrayNode results = Wire.mapper().createArrayNode();
          for (int i = 0; i < items.size(); i++) {
            ctx.checkCancelled(); // a time limit, revocation or shutdown stops between items
            A argument = bindItem(items.get(i), i, target, ctx.id());
            results.add(Arguments.encodeResult(target.handler().handle(argument, ctx)));
          }
          return results;
        };
    return new TaskRegistry.Registration<>(def, handler);
  }

  @SuppressWarnings("unchecked")
  private static <A> A bindItem(
      JsonNode item, int index, TaskRegistry.Registration<A, ?> target, String taskId) {
    if (!item.isObject()) {
      throw new InvalidMessageException(
          "item " + index + " of " + Workflows.MAP_TASK + " is not an object", taskId, null, null);
    }
    JsonNode args = item.get("args");
    JsonNode kwargs = item.get("kwargs");
    TaskMessage call =
        new TaskMessage(
            Wire.PLAIN_VERSION,
            taskId,
            target.task().name(),
            args instanceof ArrayNode a ? a : null,
            kwargs instanceof ObjectNode k ? k : null,
            "map",
            0,
            null,
            null,
            0,
            null,
            null,
            null,
            null);
    return (A) Arguments.bind(call, target.task().argType());
  }
}
