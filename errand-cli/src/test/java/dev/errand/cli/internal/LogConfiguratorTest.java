package dev.errand.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The command line's logging, set up in code as its logback.xml did: Errand's loggers at INFO and
 * the rest at WARN, to standard error; a file named with {@code -Dlogback.configurationFile} is
 * used instead.
 */
class LogConfiguratorTest {

  @Test
  void logbackFindsItThroughItsServiceFile() {
    assertThat(ServiceLoader.load(Configurator.class).stream().map(ServiceLoader.Provider::type))
        .contains(LogConfigurator.class);
  }

  @Test
  void logsErrandAtInfoAndTheRestAtWarnToStandardError() {
    LoggerContext context = new LoggerContext();
    LogConfigurator configurator = new LogConfigurator();
    configurator.setContext(context);
    assertThat(configurator.configure(context))
        .isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    String asked = System.getenv(LogConfigurator.LEVEL_VARIABLE); // INFO unless CI asks otherwise
    assertThat(context.getLogger("dev.errand").getLevel())
        .isEqualTo(Level.toLevel(asked, Level.INFO));
    ConsoleAppender<?> stderr = (ConsoleAppender<?>) root.getAppender("STDERR");
    assertThat(stderr.getTarget()).isEqualTo("System.err");
    assertThat(((PatternLayoutEncoder) stderr.getEncoder()).getPattern())
        .isEqualTo(LogConfigurator.PATTERN);
  }

  @Test
  void aConfigurationFileNamedOnTheCommandLineIsUsedInstead() {
    String before = System.getProperty("logback.configurationFile");
    System.setProperty("logback.configurationFile", "/etc/errand/logback.xml");
    try {
      LoggerContext context = new LoggerContext();
      LogConfigurator configurator = new LogConfigurator();
      configurator.setContext(context);
      assertThat(configurator.configure(context)).isEqualTo(ExecutionStatus.NEUTRAL);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext())
          .isFalse();
    } finally {
      if (before == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", before);
      }
    }
  }
}
