package dev.errand.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.errand.InvalidMessageException;
import dev.errand.TaskDef;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;

/**
 * Converts task arguments and results between Java values and JSON. A record argument travels as
 * keyword arguments (one per component); any other value as one positional argument. Thread-safe.
 */
public final class Arguments {

  /** Component names of record argument types, looked up once per class (reflection is slow). */
  private static final ClassValue<String[]> RECORD_COMPONENTS =
      new ClassValue<>() {
        @Override
        protected String[] computeValue(Class<?> type) {
          RecordComponent[] components = type.getRecordComponents();
          String[] names = new String[components.length];
          for (int i = 0; i < components.length; i++) {
            names[i] = components[i].getName();
          }
          return names;
        }
      };

  private Arguments() {}

  /**
   * JSON arguments of a call.
   *
   * @param args positional arguments
   * @param kwargs keyword arguments
   */
  public record Json(ArrayNode args, ObjectNode kwargs) {}

  /**
   * Encodes the argument of a call of {@code task}, as a client sends it: checks it first.
   *
   * @param argument plain data ({@link PlainData}); null only when the task takes no argument
   *     ({@code Void})
   * @throws IllegalArgumentException naming the task, its argument type and what is wrong: a null
   *     argument of a task that takes one, or a value that is not plain data (and where it is)
   */
  public static Json encode(TaskDef<?, ?> task, Object argument) {
    if (argument == null) {
      if (task.argType() == Void.class) {
        return encode(null);
      }
      throw new IllegalArgumentException(
          task.name()
              + ": the argument is null, but the task takes a "
              + task.argType().getTypeName()
              + " (a task without arguments is a TaskDef<Void, R>, sent with"
              + " client.enqueue(task))");
    }
    try {
      PlainData.check(argument);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          task.name()
              + ": the argument (a "
              + argument.getClass().getName()
              + ", declared "
              + task.argType().getTypeName()
              + ") cannot be sent: "
              + e.getMessage(),
          e);
    }
    return encode(argument);
  }

  /**
   * Encodes an argument, unchecked: a record as kwargs, null as no arguments, anything else as one
   * arg. Producers use {@link #encode(TaskDef, Object)}.
   */
  public static Json encode(Object argument) {
    ArrayNode args = Wire.mapper().createArrayNode();
    ObjectNode kwargs = Wire.mapper().createObjectNode();
    if (argument == null) {
      return new Json(args, kwargs);
    }
    JsonNode tree = Wire.mapper().valueToTree(argument);
    if (argument.getClass().isRecord()) {
      kwargs.setAll((ObjectNode) tree);
    } else {
      args.add(tree);
    }
    return new Json(args, kwargs);
  }

  /**
   * Arguments given as raw JSON: an array is positional, an object is keyword arguments, null or
   * empty means none, and any other value is one positional argument.
   */
  public static Json fromJson(JsonNode json) {
    ArrayNode args = Wire.mapper().createArrayNode();
    ObjectNode kwargs = Wire.mapper().createObjectNode();
    if (json == null || json.isNull() || json.isMissingNode()) {
      return new Json(args, kwargs);
    }
    if (json.isArray()) {
      args.addAll((ArrayNode) json);
    } else if (json.isObject()) {
      kwargs.setAll((ObjectNode) json);
    } else {
      args.add(json);
    }
    return new Json(args, kwargs);
  }

  /**
   * Binds a message's arguments to {@code type}.
   *
   * <ul>
   *   <li>{@link Void}: no value.
   *   <li>{@link JsonNode}: the kwargs if there are no positional args, the args array if there are
   *       no kwargs, otherwise {@code {"args": [...], "kwargs": {...}}}.
   *   <li>A record: kwargs by component name, positional args to components in order.
   *   <li>Anything else: the single positional argument, or the kwargs object, or the args array
   *       when there are several.
   * </ul>
   *
   * @throws InvalidMessageException if the arguments do not fit
   */
  public static Object bind(TaskMessage message, Type type) {
    ArrayNode args = message.args();
    ObjectNode kwargs = message.kwargs();
    if (type == Void.class || type == void.class) {
      return null;
    }
    if (type == JsonNode.class) {
      return message.argumentsForDisplay();
    }
    JavaType javaType = Wire.mapper().getTypeFactory().constructType(type);
    JsonNode source;
    if (javaType.getRawClass().isRecord()) {
      if (args.isEmpty()) {
        source = kwargs; // the common case: nothing to merge, nothing to copy
      } else {
        String[] names = RECORD_COMPONENTS.get(javaType.getRawClass());
        if (args.size() > names.length) {
          throw invalid(
              message,
              "takes " + names.length + " positional arguments but " + args.size() + " were given",
              null);
        }
        ObjectNode merged = kwargs.deepCopy();
        for (int i = 0; i < args.size(); i++) {
          if (merged.has(names[i])) {
            throw invalid(message, "got multiple values for argument '" + names[i] + "'", null);
          }
          merged.set(names[i], args.get(i));
        }
        source = merged;
      }
    } else if (args.size() == 1 && kwargs.isEmpty()) {
      source = args.get(0);
    } else if (args.isEmpty() && !kwargs.isEmpty()) {
      source = kwargs;
    } else if (args.isEmpty()) {
      source = NullNode.getInstance();
    } else if (kwargs.isEmpty()) {
      source = args;
    } else {
      throw invalid(
          message,
          "takes one argument of type " + type.getTypeName() + " but got args and kwargs",
          null);
    }
    try {
      // Read straight from the tree (convertValue would first copy it into a token buffer).
      return Wire.mapper().treeToValue(source, javaType);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      // convertValue-style wrappers carry the parser's message in their cause
      Throwable root =
          e instanceof JsonProcessingException || e.getCause() == null ? e : e.getCause();
      throw invalid(
          message, "arguments do not fit " + type.getTypeName() + ": " + Wire.firstLine(root), e);
    }
  }

  /** Encodes a handler's result as JSON (null for none). */
  public static JsonNode encodeResult(Object result) {
    return result == null ? NullNode.getInstance() : Wire.mapper().valueToTree(result);
  }

  /**
   * Decodes a stored result to {@code type}.
   *
   * @throws InvalidMessageException if it does not fit
   */
  public static Object decodeResult(JsonNode result, Type type, String taskId) {
    if (result == null || type == Void.class || type == void.class) {
      return null;
    }
    if (type == JsonNode.class || type == Object.class && result.isContainerNode()) {
      return result;
    }
    try {
      return Wire.mapper().convertValue(result, Wire.mapper().getTypeFactory().constructType(type));
    } catch (IllegalArgumentException e) {
      throw new InvalidMessageException(
          "result does not fit " + type.getTypeName() + ": " + Wire.firstLine(e), taskId, null, e);
    }
  }

  private static InvalidMessageException invalid(TaskMessage m, String what, Throwable cause) {
    return new InvalidMessageException(m.task() + "(): " + what, m.id(), m.task(), cause);
  }
}
