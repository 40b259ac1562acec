package dev.errand.spring.actuate;

import dev.errand.spi.Backend;
import dev.errand.spring.autoconfigure.ErrandAutoConfiguration;
import dev.errand.spring.autoconfigure.ErrandWorkerLifecycle;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Actuator contributors (spring-boot-actuator present): health {@code errand} (backend reachable,
 * worker consuming, queue depths), on Spring Boot 3 and on Spring Boot 4 (whose health API moved to
 * spring-boot-health), and info {@code errand}.
 */
@AutoConfiguration(after = ErrandAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.info.InfoContributor")
@ConditionalOnBean(Backend.class)
public class ErrandActuatorAutoConfiguration {

  /** Creates the configuration; Spring Boot does. */
  public ErrandActuatorAutoConfiguration() {}

  /** What both contributors read. */
  @Bean
  @ConditionalOnMissingBean
  public ErrandStatus errandStatus(Backend backend, ObjectProvider<ErrandWorkerLifecycle> worker) {
    return new ErrandStatus(backend, worker.getIfAvailable());
  }

  /** Health {@code errand} on Spring Boot 3. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.health.AbstractHealthIndicator")
  static class Boot3Health {
    @Bean
    @ConditionalOnMissingBean(name = "errandHealthIndicator")
    ErrandHealthIndicator errandHealthIndicator(ErrandStatus status) {
      return new ErrandHealthIndicator(status);
    }
  }

  /** Health {@code errand} on Spring Boot 4. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.AbstractHealthIndicator")
  static class Boot4Health {
    @Bean
    @ConditionalOnMissingBean(name = "errandHealthIndicator")
    ErrandBoot4HealthIndicator errandHealthIndicator(ErrandStatus status) {
      return new ErrandBoot4HealthIndicator(status);
    }
  }

  /** Info {@code errand}. */
  @Bean
  @ConditionalOnMissingBean(name = "errandInfoContributor")
  public ErrandInfoContributor errandInfoContributor(ErrandStatus status) {
    return new ErrandInfoContributor(status);
  }
}
