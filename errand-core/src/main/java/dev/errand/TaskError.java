package dev.errand;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Objects;

/**
 * An error as it travels on the wire: the remote exception's type name, its message and its
 * traceback as text. No class is ever loaded from {@link #type()}; it is a label.
 *
 * @param type the exception's class name (for example {@code java.io.IOException}), never null
 * @param message the exception's message, possibly null
 * @param traceback the stack trace as printed by {@link Throwable#printStackTrace()}, possibly null
 */
public record TaskError(String type, String message, String traceback) {

  /** Largest traceback kept, in characters; longer ones are cut with a marker. */
  public static final int MAX_TRACEBACK_CHARS = 16 * 1024;

  /** Largest error message kept, in characters; longer ones are cut with a marker. */
  public static final int MAX_MESSAGE_CHARS = 4 * 1024;

  public TaskError {
    Objects.requireNonNull(type, "type");
  }

  /** Describes {@code error}: its class name, message and (bounded) stack trace. */
  public static TaskError of(Throwable error) {
    StringWriter out = new StringWriter();
    error.printStackTrace(new PrintWriter(out));
    String trace = out.toString();
    if (trace.length() > MAX_TRACEBACK_CHARS) {
      trace = trace.substring(0, MAX_TRACEBACK_CHARS) + "\n\t... (traceback truncated)";
    }
    return new TaskError(error.getClass().getName(), cut(error.getMessage()), trace);
  }

  private static String cut(String message) {
    if (message == null || message.length() <= MAX_MESSAGE_CHARS) {
      return message;
    }
    return message.substring(0, MAX_MESSAGE_CHARS)
        + "... ("
        + (message.length() - MAX_MESSAGE_CHARS)
        + " more characters)";
  }

  /** An error with a type and message and no traceback (for errors raised by Errand itself). */
  public static TaskError of(String type, String message) {
    return new TaskError(type, cut(message), null);
  }

  /** {@code type: message}, the way Celery prints an exception. */
  @Override
  public String toString() {
    return message == null ? type : type + ": " + message;
  }
}
