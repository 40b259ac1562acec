package dev.errand.spring.autoconfigure;

import dev.errand.metrics.BackendMetrics;
import dev.errand.metrics.WorkerMetrics;
import dev.errand.spi.Backend;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Errand's Micrometer meters in the application's {@link MeterRegistry} (errand-metrics on the
 * class path, {@code errand.metrics.enabled}, default true): the backend's queues, lag, dead
 * letters and workers (a {@link io.micrometer.core.instrument.binder.MeterBinder} Spring Boot
 * binds), and the worker's task outcomes and runtimes (a listener of the worker).
 */
@AutoConfiguration(
    after = ErrandAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"
    })
@ConditionalOnClass({MeterRegistry.class, BackendMetrics.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnProperty(
    prefix = "errand.metrics",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class ErrandMetricsAutoConfiguration {

  /** Creates the configuration; Spring Boot does. */
  public ErrandMetricsAutoConfiguration() {}

  /** The backend's figures, read every {@code errand.metrics.interval}. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public BackendMetrics errandBackendMetrics(Backend backend, ErrandProperties properties) {
    return BackendMetrics.builder(backend).interval(properties.getMetrics().getInterval()).build();
  }

  /** The worker's task meters, told by the worker. */
  @Bean
  @ConditionalOnMissingBean
  public WorkerMetrics errandWorkerMetrics(MeterRegistry registry) {
    return new WorkerMetrics(registry);
  }
}
