package dev.errand.spring.actuate;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/** {@code /actuator/health/errand} on Spring Boot 4: see {@link ErrandStatus#health()}. */
public final class ErrandBoot4HealthIndicator extends AbstractHealthIndicator {

  private final ErrandStatus status;

  /** Reports {@code status}. */
  public ErrandBoot4HealthIndicator(ErrandStatus status) {
    super("Errand health check failed");
    this.status = status;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    ErrandStatus.Verdict v = status.health();
    (v.up() ? builder.up() : builder.down()).withDetails(v.details());
  }
}
