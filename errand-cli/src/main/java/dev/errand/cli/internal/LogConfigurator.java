package dev.errand.cli.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The command line's logging, set up in code: log lines go to standard error, so that a command's
 * output on standard output stays clean for scripts; {@code dev.errand} logs at {@code
 * $ERRAND_LOG_LEVEL} (default INFO), everything else at WARN. It does what a {@code logback.xml}
 * would, without logback's XML configurator, whose parser and model classes made logging's start
 * the slowest step of a worker's (about a fifth of a second, twice: supervisor and worker process).
 *
 * <p>A configuration file named with {@code -Dlogback.configurationFile=...} (in {@code
 * ERRAND_JAVA_OPTS}) is used instead, as are a {@code logback-test.xml} or {@code logback.xml} on
 * the class path.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

  /** The layout of a log line: time, level, thread, logger, then the task's MDC and the message. */
  static final String PATTERN =
      "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} %X{taskName} %X{taskId} %X{requestId} -"
          + " %msg%n";

  /** Environment variable (or system property) with the level of Errand's own loggers. */
  static final String LEVEL_VARIABLE = "ERRAND_LOG_LEVEL";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || getClass().getClassLoader().getResource("logback-test.xml") != null
        || getClass().getClassLoader().getResource("logback.xml") != null) {
      return ExecutionStatus.NEUTRAL; // logback's own configurator reads the file
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
    context.getLogger("dev.errand").setLevel(Level.toLevel(level(), Level.INFO));
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static String level() {
    String level = System.getProperty(LEVEL_VARIABLE);
    return level != null ? level : System.getenv(LEVEL_VARIABLE);
  }
}
